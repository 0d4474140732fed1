"""/rewards and /me/coupons: catalog groups, the preview/confirm redeem with a
one-time token (a double submit issues one coupon), the coupon with its QR
code, and members never seeing each other's coupons."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import func, select

from tests.helpers.web import MEMBER_PASSWORD, form_token, post_form, sign_in_new_member
from webapp.extensions import db
from webapp.models import Coupon, Member
from webapp.services.offers import rewards

PASSWORD = MEMBER_PASSWORD
HX = {"HX-Request": "true"}


def sign_in(client, make_member, points, **kw):
    return sign_in_new_member(client, make_member, points, **kw)


def test_catalog_shows_what_you_can_afford_and_how_far_away_the_rest_is(client, make_member, make_reward):
    cheap = make_reward(name_en="Coffee", cost_points=100)
    far = make_reward(name_en="Dinner", cost_points=1_000)
    make_reward(name_en="Hidden draft", status="draft", cost_points=200)
    sign_in(client, make_member, 250)
    html = client.get("/rewards").get_data(as_text=True)
    afford = html[html.index('id="rewards-afford"'):html.index('id="rewards-away"')]
    assert "Coffee" in afford and f'/rewards/{cheap}"' in afford
    away = html[html.index('id="rewards-away"'):]
    assert "Dinner" in away and "750 more points" in away and 'aria-valuenow="25"' in away
    assert f"/rewards/{far}\"" not in away  # no redeem link for what you cannot afford
    assert "Hidden draft" not in html and "style=" not in html


def test_redeem_preview_then_confirm_issues_a_coupon_and_a_double_submit_issues_one(app, client, make_member,
                                                                                  make_reward):
    rid = make_reward(stock=5, cost_points=200)
    m = sign_in(client, make_member, 500)
    preview = client.get(f"/rewards/{rid}", headers=HX)
    assert preview.status_code == 200 and "<html" not in preview.get_data(as_text=True)
    page = client.get(f"/rewards/{rid}").get_data(as_text=True)
    assert "300" in page  # points after
    token = form_token(page)
    first = post_form(client, f"/rewards/{rid}", {"token": token}, form_url=f"/rewards/{rid}")
    again = post_form(client, f"/rewards/{rid}", {"token": token}, form_url=f"/rewards/{rid}")
    assert first.status_code == again.status_code == 302
    assert first.headers["Location"] == again.headers["Location"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Coupon)) == 1
        assert db.session.get(Member, m.id).points_balance == 300
    detail = client.get(first.headers["Location"]).get_data(as_text=True)
    assert "<svg" in detail and 'id="coupon-code"' in detail and "style=" not in detail
    code = re.search(r'id="coupon-code"><bdi>([A-Z0-9-]+)<', detail).group(1)
    assert code in client.get("/me/coupons").get_data(as_text=True)


def test_redeeming_without_enough_points_says_why_and_changes_nothing(app, client, make_member, make_reward):
    rid = make_reward(cost_points=1_000)
    sign_in(client, make_member, 100)
    page = client.get(f"/rewards/{rid}").get_data(as_text=True)
    assert 'id="reward-refusal"' in page and 'id="reward-confirm"' not in page
    response = post_form(client, f"/rewards/{rid}", {"token": "forged-token"}, form_url="/rewards")
    assert response.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Coupon)) == 0


def test_an_unknown_or_draft_reward_is_not_found(client, make_member, make_reward):
    rid = make_reward(status="draft", cost_points=200)
    sign_in(client, make_member, 500)
    assert client.get(f"/rewards/{rid}").status_code == 404
    assert client.get("/rewards/999999").status_code == 404


def test_members_never_see_each_others_coupons(app, client, make_member, make_reward):
    rid = make_reward(cost_points=200)
    owner = make_member(points=500)
    with app.app_context():
        coupon = rewards.redeem_reward(db.session, member_id=owner.id, reward_id=rid, request_key="x",
                                       now=datetime.now(UTC)).coupon
        db.session.commit()
        coupon_id, code = coupon.id, coupon.code
    sign_in(client, make_member, 0)
    assert client.get(f"/me/coupons/{coupon_id}").status_code == 404
    assert code not in client.get("/me/coupons").get_data(as_text=True)


def test_rewards_pages_need_a_signed_in_member(client):
    for url in ("/rewards", "/me/coupons", "/me/coupons/1", "/rewards/1"):
        assert client.get(url).status_code in (302, 401)


def test_dashboard_shows_the_rewards_card_and_the_persian_catalog(client, make_member, make_reward):
    make_reward(name_fa="قهوه", name_en="Coffee", cost_points=100)
    sign_in(client, make_member, 250, locale="fa")
    dash = client.get("/me").get_data(as_text=True)
    assert 'id="rewards-card"' in dash and "قهوه" in dash
    assert "۱۰۰" in client.get("/rewards").get_data(as_text=True)
