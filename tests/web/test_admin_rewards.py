"""/admin/rewards: create (with a picture checked by content), publish, upload
partner codes, cancel a coupon with a refund; owners and marketers only; audited."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.helpers.web import PNG, post_form
from tests.helpers.web import sign_in_staff as sign_in
from webapp.extensions import db
from webapp.models import AuditLog, Coupon, Member, Reward, VoucherCode
from webapp.services.offers import rewards

FORM = {"kind": "coupon_percent", "name_fa": "ده درصد", "name_en": "Ten percent", "cost_points": "۵۰۰",
        "percent": "12.5", "stock": "10", "per_member_limit": "2", "coupon_valid_days": "30",
        "starts_on": "", "ends_on": "1405-12-29", "min_tier": "", "segment": ""}


def create(client, **changes):
    data = {**FORM, **changes}
    return post_form(client, "/admin/rewards/new", data, content_type="multipart/form-data")


def test_a_marketer_creates_a_reward_with_a_picture_and_it_is_audited(app, client, marketer):
    response = create(client, image=(io.BytesIO(PNG), "cat.gif"))
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        r = db.session.scalar(select(Reward))
        assert (r.kind, r.value, r.cost_points, r.stock, r.status) == ("coupon_percent", 1250, 500, 10, "draft")
        assert r.image.endswith(".png") and "cat" not in r.image
        assert r.ends_at is not None
        assert db.session.scalar(select(AuditLog.action).where(AuditLog.object_type == "reward")) == "reward.create"
    picture = client.get(f"/rewards/image/{r.image}")
    assert picture.status_code == 200 and picture.data == PNG
    edit = client.get(f"/admin/rewards/{r.id}").get_data(as_text=True)
    assert "12.5" in edit and "1405-12-29" in edit  # the editor shows what was typed
    assert "Ten percent" in client.get("/admin/rewards").get_data(as_text=True)


def test_a_picture_that_is_not_an_image_is_refused(app, client, marketer):
    response = create(client, image=(io.BytesIO(b"<svg onload=alert(1)>"), "x.png"))
    assert response.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Reward)) == 0


def test_kind_specific_fields_are_required(client, marketer):
    assert create(client, percent="").status_code == 422
    assert create(client, kind="free_product", product_sku="").status_code == 422


def test_publishing_and_uploading_partner_codes(app, client, marketer):
    assert create(client, kind="partner_voucher", percent="", stock="").status_code == 302
    with app.app_context():
        rid = db.session.scalar(select(Reward.id))
    url = f"/admin/rewards/{rid}"
    assert post_form(client, f"{url}/status", {"status": "active"}, form_url=url).status_code == 302
    csv = io.BytesIO(b"code\nP-1\nP-2\n")
    response = post_form(client, f"{url}/codes", {"codes": "P-2\nP-3", "file": (csv, "codes.csv")}, form_url=url,
                         content_type="multipart/form-data")
    assert response.status_code == 302
    with app.app_context():
        r = db.session.get(Reward, rid)
        assert (r.status, r.stock) == ("active", 3)
        assert sorted(db.session.scalars(select(VoucherCode.code))) == ["P-1", "P-2", "P-3"]


def test_cancelling_a_coupon_refunds_the_member(app, client, marketer, make_member):
    member = make_member(points=1_000)
    with app.app_context():
        r = rewards.save_reward(db.session, rewards.RewardData(kind="coupon_amount", name_fa="x", name_en="x",
                                                               cost_points=300, value=1, status="active",
                                                               stock=1), actor=rewards.audit.CLI,
                                now=datetime.now(UTC))
        c = rewards.redeem_reward(db.session, member_id=member.id, reward_id=r.id, request_key="k",
                                  now=datetime.now(UTC)).coupon
        db.session.commit()
        rid, cid, code = r.id, c.id, c.code
    found = client.get(f"/admin/rewards?code={code.lower()}").get_data(as_text=True)
    assert 'id="coupon-found"' in found
    response = post_form(client, f"/admin/coupons/{cid}/cancel", {"reason": "wrong item"},
                         form_url=f"/admin/rewards/{rid}")
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Coupon, cid).status == "cancelled"
        assert db.session.get(Member, member.id).points_balance == 1_000
        assert db.session.get(Reward, rid).stock == 1
    again = post_form(client, f"/admin/coupons/{cid}/cancel", {}, form_url=f"/admin/rewards/{rid}")
    assert again.status_code == 302
    with app.app_context():
        assert db.session.get(Member, member.id).points_balance == 1_000


@pytest.mark.parametrize("role", ["operator", "auditor"])
def test_other_roles_cannot_reach_the_rewards_pages(client, make_staff, role):
    assert sign_in(client, make_staff(role)).status_code == 302
    assert client.get("/admin/rewards").status_code == 403
    assert client.get("/admin/rewards/new").status_code == 403


def test_coupon_statuses_are_shown_in_words_and_only_a_live_coupon_can_be_cancelled(app, client, marketer,
                                                                                   make_member):
    member = make_member(points=1_000)
    now = datetime.now(UTC)
    with app.app_context():
        r = rewards.save_reward(db.session, rewards.RewardData(kind="coupon_amount", name_fa="x", name_en="x",
                                                               cost_points=100, value=1, status="active",
                                                               coupon_valid_days=30),
                                actor=rewards.audit.CLI, now=now - timedelta(days=40))
        codes = {}
        for name, when in (("cancelled", now), ("expired", now - timedelta(days=40)), ("issued", now)):
            c = rewards.redeem_reward(db.session, member_id=member.id, reward_id=r.id, request_key=name,
                                      now=when).coupon
            codes[name] = c.code
        rewards.cancel_coupon(db.session, db.session.scalar(select(Coupon.id).where(
            Coupon.code == codes["cancelled"])), actor=rewards.audit.CLI, now=now)
        db.session.commit()  # the expired one is still "issued" in the table: its date has passed
        rid = r.id
    html = client.get(f"/admin/rewards/{rid}").get_data(as_text=True)
    cells = re.findall(r'<td data-label="Status">([^<]*)</td>', html)
    assert cells == ["Issued", "Expired", "Cancelled"]  # newest first, in words, not raw codes
    assert html.count("Cancel and refund") == 1
    found = client.get(f"/admin/rewards?code={codes['expired']}").get_data(as_text=True)
    assert re.search(r"<dt>Status</dt><dd>Expired</dd>", found)
    assert "Cancel and refund" not in found
