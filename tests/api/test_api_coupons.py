"""The till's coupon flow: verify, mark used (idempotent), and clear refusals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from webapp.extensions import db
from webapp.services.members import audit
from webapp.services.offers import rewards


@pytest.fixture
def coupon(app, make_member):
    def make(**kw):
        member = make_member(points=1_000)
        now = kw.pop("now", None) or datetime.now(UTC)
        data = {"kind": "free_product", "name_fa": "قهوه", "name_en": "Coffee", "cost_points": 100,
                "product_sku": "SKU-COFFEE", "status": "active", **kw}
        with app.app_context():
            r = rewards.save_reward(db.session, rewards.RewardData(**data), actor=audit.CLI, now=now)
            c = rewards.redeem_reward(db.session, member_id=member.id, reward_id=r.id, request_key="k", now=now).coupon
            db.session.commit()
            return c.code, member.id
    return make


def auth(key, idem=None):
    headers = {"Authorization": f"Bearer {key}"}
    if idem:
        headers["Idempotency-Key"] = idem
    return headers


def test_verify_then_redeem_then_refuse_a_second_use(client, api_key, coupon):
    code, member_id = coupon()
    seen = client.get(f"/api/v1/coupons/{code.lower().replace('-', ' ')}", headers=auth(api_key))
    body = seen.get_json()
    assert seen.status_code == 200
    assert (body["status"], body["kind"], body["product_sku"], body["member_id"]) == (
        "issued", "free_product", "SKU-COFFEE", member_id)
    used = client.post(f"/api/v1/coupons/{code}/redeem", json={"reference": "R-1"}, headers=auth(api_key, "u1"))
    assert used.status_code == 200 and used.get_json()["status"] == "used"
    assert used.get_json()["used_reference"] == "R-1"
    replay = client.post(f"/api/v1/coupons/{code}/redeem", json={"reference": "R-1"}, headers=auth(api_key, "u1"))
    assert replay.status_code == 200 and replay.headers.get("Idempotent-Replayed") == "true"
    second = client.post(f"/api/v1/coupons/{code}/redeem", json={}, headers=auth(api_key, "u2"))
    assert second.status_code == 409 and second.get_json()["error"]["code"] == "coupon_used"


def test_unknown_codes_are_404(client, api_key):
    assert client.get("/api/v1/coupons/NOPE", headers=auth(api_key)).status_code == 404
    response = client.post("/api/v1/coupons/23456-78923-45678/redeem", json={}, headers=auth(api_key, "x"))
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "coupon_not_found"


def test_an_expired_coupon_is_refused_with_its_own_code(client, api_key, coupon):
    code, _ = coupon(coupon_valid_days=1, now=datetime.now(UTC) - timedelta(days=3))
    assert client.get(f"/api/v1/coupons/{code}", headers=auth(api_key)).get_json()["status"] == "expired"
    response = client.post(f"/api/v1/coupons/{code}/redeem", json={}, headers=auth(api_key, "e"))
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "coupon_expired"


def test_a_cancelled_coupon_is_refused(app, client, api_key, coupon):
    code, _ = coupon()
    with app.app_context():
        c = rewards.find_coupon(db.session, code)
        rewards.cancel_coupon(db.session, c.id, actor=audit.CLI, now=datetime.now(UTC))
        db.session.commit()
    response = client.post(f"/api/v1/coupons/{code}/redeem", json={}, headers=auth(api_key, "c"))
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "coupon_cancelled"


def test_the_reference_is_checked(client, api_key, coupon):
    code, _ = coupon()
    response = client.post(f"/api/v1/coupons/{code}/redeem", json={"reference": 5, "x": 1},
                           headers=auth(api_key, "bad"))
    assert response.status_code == 422 and set(response.get_json()["error"]["details"]) == {"reference", "x"}


def test_coupons_need_an_api_key(client):
    assert client.get("/api/v1/coupons/23456-78923-45678").status_code == 401
