"""A member's coupons on the staff member page: code, reward, status, issue date,
in one query however many there are; owners and marketers (capability "offers",
the same as the cancel endpoint) cancel an issued coupon from there and come back
to the member; operators and auditors see the coupons but cannot cancel."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.helpers.web import post_form
from tests.helpers.web import sign_in_staff as sign_in
from webapp.extensions import db
from webapp.models import AuditLog, Coupon, Member
from webapp.services.offers import rewards


def redeem(app, member_id, reward_id, key, *, now=None):
    with app.app_context():
        coupon = rewards.redeem_reward(db.session, member_id=member_id, reward_id=reward_id, request_key=key,
                                       now=now or datetime.now(UTC)).coupon
        db.session.commit()
        return coupon.id, coupon.code


def row_of(html, coupon_id):
    match = re.search(rf'<tr id="member-coupon-{coupon_id}">(.*?)</tr>', html, re.S)
    assert match, f"coupon {coupon_id} is not on the page"
    return match.group(1)


def test_the_member_page_lists_the_members_coupons_with_their_state(app, client, make_staff, make_member, make_reward):
    member, other = make_member(points=1_000), make_member(points=1_000)
    coffee, cake = make_reward(name_en="Coffee"), make_reward(name_en="Cake", coupon_valid_days=3)
    issued_id, issued_code = redeem(app, member.id, coffee, "a")
    used_id, used_code = redeem(app, member.id, cake, "b")
    late_id, _ = redeem(app, member.id, cake, "c", now=datetime.now(UTC) - timedelta(days=5))
    others_id, others_code = redeem(app, other.id, coffee, "d")
    with app.app_context():
        rewards.use_coupon(db.session, used_code, now=datetime.now(UTC))
        db.session.commit()
    assert sign_in(client, make_staff("marketer")).status_code == 302

    html = client.get(f"/admin/members/{member.id}").get_data(as_text=True)

    section = html[html.index('id="member-coupons"'):]
    assert issued_code in section and "Coffee" in row_of(html, issued_id)
    assert "Issued" in row_of(html, issued_id) and "Used" in row_of(html, used_id)
    assert "Cake" in row_of(html, used_id)
    # past its date: expired, even before the nightly job has recorded it, and not cancellable
    assert "Expired" in row_of(html, late_id) and "/cancel" not in row_of(html, late_id)
    assert f"/admin/coupons/{issued_id}/cancel" in row_of(html, issued_id)
    assert "/cancel" not in row_of(html, used_id)
    assert others_code not in html and f"member-coupon-{others_id}" not in html


def test_cancelling_from_the_member_page_refunds_and_returns_to_the_member(app, client, make_staff,
                                                                            make_member, make_reward):
    member = make_member(points=1_000)
    coffee = make_reward(name_en="Coffee", cost_points=300)
    coupon_id, _ = redeem(app, member.id, coffee, "a")
    assert sign_in(client, make_staff("owner")).status_code == 302
    page = f"/admin/members/{member.id}"
    html = client.get(page).get_data(as_text=True)
    back = re.search(r'name="next" value="([^"]+)"', row_of(html, coupon_id)).group(1)

    response = post_form(client, f"/admin/coupons/{coupon_id}/cancel", {"reason": "Asked at the till",
                                                                        "next": back}, form_url=page)

    assert response.status_code == 302
    assert response.headers["Location"] == f"{page}#member-coupons"
    with app.app_context():
        assert db.session.get(Coupon, coupon_id).status == "cancelled"
        assert db.session.get(Member, member.id).points_balance == 1_000
        log = db.session.scalar(select(AuditLog).where(AuditLog.action == "coupon.cancel"))
        assert log.object_id == str(coupon_id)
    after = client.get(page).get_data(as_text=True)
    assert "The coupon is cancelled" in after
    assert "Cancelled" in row_of(after, coupon_id) and "/cancel" not in row_of(after, coupon_id)


def test_the_cancel_endpoint_refuses_to_send_staff_off_the_admin_site(app, client, make_staff, make_member, make_reward):
    member = make_member(points=1_000)
    coupon_id, _ = redeem(app, member.id, make_reward(name_en="Coffee"), "a")
    assert sign_in(client, make_staff("marketer")).status_code == 302
    response = post_form(client, f"/admin/coupons/{coupon_id}/cancel", {"next": "https://evil.example/"},
                         form_url=f"/admin/members/{member.id}")
    assert response.status_code == 302
    assert "evil" not in response.headers["Location"]


@pytest.mark.parametrize("role", ["operator", "auditor"])
def test_operators_and_auditors_see_coupons_but_cannot_cancel_them(app, client, make_staff, make_member, role, make_reward):
    member = make_member(points=1_000)
    coupon_id, code = redeem(app, member.id, make_reward(name_en="Coffee"), "a")
    assert sign_in(client, make_staff(role)).status_code == 302
    page = f"/admin/members/{member.id}"

    html = client.get(page).get_data(as_text=True)

    assert code in row_of(html, coupon_id) and "Coffee" in row_of(html, coupon_id)
    assert "/cancel" not in html and "/admin/rewards/" not in row_of(html, coupon_id)
    response = post_form(client, f"/admin/coupons/{coupon_id}/cancel", {"reason": "x"}, form_url=page)
    assert response.status_code == 403
    with app.app_context():
        assert db.session.get(Coupon, coupon_id).status == "issued"
        assert db.session.get(Member, member.id).points_balance == 900


def test_the_coupons_take_the_same_number_of_queries_however_many_there_are(app, client, make_staff,
                                                                           make_member, count_queries, make_reward):
    few, many = make_member(points=10_000), make_member(points=10_000)
    ids = [make_reward(name_en=f"Reward {n}") for n in range(6)]
    redeem(app, few.id, ids[0], "few")
    for n, rid in enumerate(ids):
        redeem(app, many.id, rid, f"many-{n}")
    assert sign_in(client, make_staff("marketer")).status_code == 302
    client.get(f"/admin/members/{few.id}")  # warm up: settings, tier program caches

    with count_queries() as one:
        assert client.get(f"/admin/members/{few.id}").status_code == 200
    with count_queries() as six:
        html = client.get(f"/admin/members/{many.id}").get_data(as_text=True)

    assert all(f"Reward {n}" in html for n in range(6))
    assert len(six) == len(one)
    assert sum("FROM coupon" in s for s in six) == 1


def test_only_the_latest_coupons_are_listed_with_a_note(app, client, make_staff, make_member, monkeypatch, make_reward):
    from webapp.admin import members

    monkeypatch.setattr(members, "COUPONS_SHOWN", 2)
    member = make_member(points=1_000)
    coffee = make_reward(name_en="Coffee")
    start = datetime.now(UTC) - timedelta(hours=3)
    made = [redeem(app, member.id, coffee, f"k{n}", now=start + timedelta(hours=n))[0] for n in range(3)]
    assert sign_in(client, make_staff("marketer")).status_code == 302

    html = client.get(f"/admin/members/{member.id}").get_data(as_text=True)

    assert f"member-coupon-{made[2]}" in html and f"member-coupon-{made[1]}" in html
    assert f"member-coupon-{made[0]}" not in html
    assert "Showing the latest 2 coupons." in html
