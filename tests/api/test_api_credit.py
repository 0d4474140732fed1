"""POST /credit/spend, GET /credit/spend/{id}, POST /credit/spend/{id}/refund;
the `fee` of a transaction and the member's tier in GET /members/{id}."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from webapp.models import CreditSpend, Member, Purchase
from webapp.services import ledger, tiers
from webapp.services.members import audit


def count(session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def credit_of(session, member_id) -> int:
    session.expire_all()
    return session.get(Member, member_id).credit_balance


# -- spending ----------------------------------------------------------------------------


def test_spending_credit_answers_201_with_the_new_balance(api, make_member, session):
    member = make_member(points=40, credit=50_000)
    response = api.post("/credit/spend", {"member_id": member.id, "amount": 12_500,
                                          "external_ref": "POS-1", "reason": "latte"})
    assert response.status_code == 201
    body = response.get_json()
    assert (body["member_id"], body["amount"], body["refunded_amount"]) == (member.id, 12_500, 0)
    assert (body["external_ref"], body["reason"], body["refunds"]) == ("POS-1", "latte", [])
    assert (body["credit_balance"], body["points_balance"]) == (37_500, 40)
    assert body["created_at"].endswith("Z")
    shown = api.get(f"/credit/spend/{body['id']}")
    assert shown.status_code == 200 and shown.get_json()["amount"] == 12_500
    assert credit_of(session, member.id) == 37_500
    assert ledger.find_mismatches(session) == []


def test_replaying_a_spend_returns_the_same_answer_and_spends_once(api, make_member, session):
    member = make_member(credit=10_000)
    body = {"member_id": member.id, "amount": 4_000}
    first = api.post("/credit/spend", body, key="till-9:sale-1")
    again = api.post("/credit/spend", body, key="till-9:sale-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_data() == first.get_data()
    assert credit_of(session, member.id) == 6_000
    assert count(session, CreditSpend) == 1


def test_the_same_key_with_another_body_is_409_and_spends_nothing_more(api, make_member, session):
    member = make_member(credit=10_000)
    api.post("/credit/spend", {"member_id": member.id, "amount": 1_000}, key="k-1")
    response = api.post("/credit/spend", {"member_id": member.id, "amount": 2_000}, key="k-1")
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "idempotency_key_reused"
    assert credit_of(session, member.id) == 9_000


def test_spending_more_than_the_balance_is_409_and_changes_nothing(api, make_member, session):
    member = make_member(credit=999)
    response = api.post("/credit/spend", {"member_id": member.id, "amount": 1_000}, key="too-much")
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "insufficient_credit"
    assert credit_of(session, member.id) == 999
    assert count(session, CreditSpend) == 0
    # an error is not stored: once the member has credit, the same request goes through
    ledger.grant_credit(session, member.id, 1, key="top-up", now=datetime.now(UTC))
    session.commit()
    assert api.post("/credit/spend", {"member_id": member.id, "amount": 1_000}, key="too-much").status_code == 201


def test_a_duplicate_external_ref_is_409_naming_the_original(api, make_member, session):
    member = make_member(credit=10_000)
    first = api.post("/credit/spend", {"member_id": member.id, "amount": 100, "external_ref": "POS-7"})
    response = api.post("/credit/spend", {"member_id": member.id, "amount": 100, "external_ref": "POS-7"})
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "duplicate_credit_spend"
    assert error["details"] == {"external_ref": "POS-7", "spend_id": first.get_json()["id"]}
    assert credit_of(session, member.id) == 9_900


def test_unknown_and_inactive_members(api, make_member, session):
    response = api.post("/credit/spend", {"member_id": 987_654, "amount": 1})
    assert (response.status_code, response.get_json()["error"]["code"]) == (404, "member_not_found")
    member = make_member(credit=100)
    session.get(Member, member.id).status = "suspended"
    session.commit()
    response = api.post("/credit/spend", {"member_id": member.id, "amount": 1})
    assert (response.status_code, response.get_json()["error"]["code"]) == (409, "member_not_active")


@pytest.mark.parametrize(("body", "field"), [
    ({"amount": 1}, "member_id"),
    ({"member_id": 1}, "amount"),
    ({"member_id": 1, "amount": 0}, "amount"),
    ({"member_id": 1, "amount": -5}, "amount"),
    ({"member_id": 1, "amount": True}, "amount"),
    ({"member_id": 1, "amount": "100"}, "amount"),
    ({"member_id": 1, "amount": 1.5}, "amount"),
    ({"member_id": 1, "amount": 10**16}, "amount"),
    ({"member_id": 2**31, "amount": 1}, "member_id"),
    ({"member_id": 1, "amount": 1, "external_ref": "x" * 101}, "external_ref"),
    ({"member_id": 1, "amount": 1, "reason": 7}, "reason"),
    ({"member_id": 1, "amount": 1, "tip": 5}, "tip"),
])
def test_bad_spend_bodies_are_422_naming_the_field(api, make_member, session, body, field):
    make_member(credit=100)
    response = api.post("/credit/spend", body)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "invalid" and field in error["details"]
    assert count(session, CreditSpend) == 0


def test_a_body_that_is_not_an_object_or_not_json_is_refused(api):
    assert api.post("/credit/spend", [1, 2]).status_code == 422
    assert api.post("/credit/spend", data="{", content_type="application/json").status_code == 400
    assert api.post("/credit/spend", data="a=1", content_type="application/x-www-form-urlencoded").status_code == 415


def test_credit_endpoints_need_an_api_key(api_as, make_member):
    member = make_member(credit=100)
    anonymous = api_as(None)
    assert anonymous.post("/credit/spend", {"member_id": member.id, "amount": 1}).status_code == 401
    assert anonymous.get("/credit/spend/1").status_code == 401
    assert anonymous.post("/credit/spend/1/refund", {}).status_code == 401


@pytest.mark.parametrize("spend_id", ["424242", str(2**63), str(10**30)])
def test_unknown_spends_are_404(api, spend_id):
    for response in (api.get(f"/credit/spend/{spend_id}"), api.post(f"/credit/spend/{spend_id}/refund", {})):
        assert response.status_code == 404
        assert response.get_json()["error"]["code"] == "credit_spend_not_found"


@pytest.mark.real_commits
def test_concurrent_spends_through_the_api_never_overdraw(app, api_key, make_member, session):
    """Twelve tills spend 10,000 each from 95,000 at once: exactly nine succeed."""
    member = make_member(credit=95_000)
    start = threading.Barrier(12)
    answers = []

    def post(n):
        client = app.test_client()
        start.wait()
        response = client.post("/api/v1/credit/spend", data=json.dumps({"member_id": member.id, "amount": 10_000}),
                               content_type="application/json",
                               headers={"Authorization": f"Bearer {api_key}", "Idempotency-Key": f"s{n}"})
        answers.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=post, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(status for status, _a in answers) == [201] * 9 + [409] * 3
    assert {a["error"]["code"] for s, a in answers if s == 409} == {"insufficient_credit"}
    assert sorted(a["credit_balance"] for s, a in answers if s == 201) == list(range(5_000, 95_000, 10_000))
    assert credit_of(session, member.id) == 5_000
    assert ledger.find_mismatches(session) == []


# -- refunds ------------------------------------------------------------------------------


@pytest.fixture
def spent(api, make_member):
    """A member with 20,000 credit who spent 15,000 of it."""
    member = make_member(credit=20_000)
    response = api.post("/credit/spend", {"member_id": member.id, "amount": 15_000})
    assert response.status_code == 201
    return member, response.get_json()


def test_refunds_give_credit_back_up_to_what_was_spent(api, spent, session):
    member, spend = spent
    response = api.post(f"/credit/spend/{spend['id']}/refund", {"amount": 5_000, "external_ref": "RF-1"})
    assert response.status_code == 201
    body = response.get_json()
    assert (body["spend_id"], body["member_id"], body["amount"], body["external_ref"]) == (
        spend["id"], member.id, 5_000, "RF-1")
    assert (body["refunded_amount"], body["refundable_amount"], body["credit_balance"]) == (5_000, 10_000, 10_000)
    rest = api.post(f"/credit/spend/{spend['id']}/refund", {}).get_json()  # all that is left
    assert (rest["amount"], rest["refundable_amount"], rest["credit_balance"]) == (10_000, 0, 20_000)
    shown = api.get(f"/credit/spend/{spend['id']}").get_json()
    assert shown["refunded_amount"] == 15_000
    assert [r["id"] for r in shown["refunds"]] == [body["id"], rest["id"]]
    assert ledger.find_mismatches(session) == []


def test_over_refunding_is_422_and_changes_nothing(api, spent, session):
    member, spend = spent
    response = api.post(f"/credit/spend/{spend['id']}/refund", {"amount": 15_001})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert (error["code"], error["details"]) == ("refund_exceeds_spend", {"refundable": 15_000})
    assert credit_of(session, member.id) == 5_000
    api.post(f"/credit/spend/{spend['id']}/refund", {})
    response = api.post(f"/credit/spend/{spend['id']}/refund", {})  # nothing is left
    assert (response.status_code, response.get_json()["error"]["details"]) == (422, {"refundable": 0})
    assert credit_of(session, member.id) == 20_000


def test_replaying_a_refund_returns_the_same_answer_and_refunds_once(api, spent, session):
    member, spend = spent
    first = api.post(f"/credit/spend/{spend['id']}/refund", {"amount": 1_000}, key="rf-key")
    again = api.post(f"/credit/spend/{spend['id']}/refund", {"amount": 1_000}, key="rf-key")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true" and again.get_data() == first.get_data()
    other = api.post(f"/credit/spend/{spend['id']}/refund", {"amount": 2_000}, key="rf-key")
    assert (other.status_code, other.get_json()["error"]["code"]) == (409, "idempotency_key_reused")
    assert credit_of(session, member.id) == 6_000


def test_a_refund_reference_is_recorded_once_per_spend(api, spent, session):
    member, spend = spent
    api.post(f"/credit/spend/{spend['id']}/refund", {"amount": 100, "external_ref": "RF-9"})
    response = api.post(f"/credit/spend/{spend['id']}/refund", {"amount": 100, "external_ref": "RF-9"})
    assert (response.status_code, response.get_json()["error"]["code"]) == (409, "duplicate_credit_refund")
    assert credit_of(session, member.id) == 5_100


@pytest.mark.parametrize(("body", "field"), [
    ({"amount": 0}, "amount"),
    ({"amount": -1}, "amount"),
    ({"amount": "5"}, "amount"),
    ({"amount": False}, "amount"),
    ({"reason": "why"}, "reason"),  # a credit refund has no reason field
    ({"external_ref": ["a"]}, "external_ref"),
])
def test_bad_refund_bodies_are_422(api, spent, body, field):
    _member, spend = spent
    response = api.post(f"/credit/spend/{spend['id']}/refund", body)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["details"]


# -- transactions: fee; members: tier ---------------------------------------------------------


def test_a_transaction_records_its_fee(api, make_member, purchase_for, session):
    member = make_member()
    response = api.post("/transactions", purchase_for(member.id, 2_000_000, fee=15_000))
    assert response.status_code == 201
    body = response.get_json()
    assert body["fee"] == 15_000
    assert api.get(f"/transactions/{body['id']}").get_json()["fee"] == 15_000
    session.expire_all()
    assert session.get(Purchase, body["id"]).fee == 15_000
    assert api.post("/transactions", purchase_for(member.id)).get_json()["fee"] == 0  # optional


@pytest.mark.parametrize("fee", [-1, 1_000_001, True, "5", 1.5])
def test_a_bad_fee_is_422(api, make_member, purchase_for, fee):
    member = make_member()
    response = api.post("/transactions", purchase_for(member.id, 1_000_000, fee=fee))
    assert response.status_code == 422
    assert "fee" in response.get_json()["error"]["details"]


def test_get_member_shows_the_tier_once_the_club_has_a_program(api, make_member, session):
    member = make_member()
    assert api.get(f"/members/{member.id}").get_json()["tier"] is None
    tiers.save_program(session, tiers.default_program(), actor=audit.CLI, now=datetime.now(UTC))
    session.commit()
    entry = tiers.default_program().levels[0]
    assert api.get(f"/members/{member.id}").get_json()["tier"] == {
        "code": entry.code, "name_fa": entry.name_fa, "name_en": entry.name_en, "rank": 0,
    }
