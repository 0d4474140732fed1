"""The till enrols a friend who shows the referrer's invite QR code: the code or
the whole scanned link names the referrer, an unknown code creates nothing, an
existing customer is never re-attributed, and the first purchase posted through
the API qualifies the referral."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.helpers.referrals import set_rules
from webapp.extensions import db
from webapp.models import Member, Referral, utcnow


def _referrer(app, make_member):
    member = make_member(display_name="Sara")
    with app.app_context():
        set_rules(db.session, utcnow(), referrer_amount=300, friend_amount=100)
        return member.id, db.session.get(Member, member.id).referral_code


def test_a_scanned_invite_link_enrols_the_friend_and_their_purchase_pays_both(app, api, make_member, purchase_for):
    referrer_id, code = _referrer(app, make_member)
    made = api.post("/members", {
        "mobile": "09121234567", "referral_code": f"https://club.example/r/{code.lower()}"})
    assert made.status_code == 201, made.get_json()
    friend_id = made.get_json()["id"]
    sale = api.post("/transactions", purchase_for(friend_id, 250_000))
    assert sale.status_code == 201, sale.get_json()
    assert sale.get_json()["points_balance"] == 25 + 100
    with app.app_context():
        referral = db.session.scalar(select(Referral).where(Referral.friend_id == friend_id))
        assert (referral.referrer_id, referral.status) == (referrer_id, "qualified")
        assert db.session.get(Member, referrer_id).points_balance == 300


def test_an_unknown_code_is_a_422_and_creates_nobody(app, api):
    answer = api.post("/members", {"email": "x@example.com", "referral_code": "NOPE2345"})
    assert answer.status_code == 422
    assert answer.get_json()["error"]["code"] == "unknown_referral_code"
    with app.app_context():
        assert db.session.scalar(select(func.count(Member.id))) == 0


def test_an_existing_customer_is_not_attributed_to_a_referrer(app, api, make_member):
    _, code = _referrer(app, make_member)
    existing = make_member(email="old@example.com")
    found = api.post("/members", {"email": "old@example.com", "referral_code": code})
    assert found.status_code == 200 and found.get_json()["id"] == existing.id
    with app.app_context():
        assert db.session.scalar(select(func.count(Referral.id))) == 0
