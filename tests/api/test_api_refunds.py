"""POST /transactions/{id}/refund: points taken back, never below zero."""

from datetime import UTC, datetime

import pytest

from webapp.services import ledger


@pytest.fixture
def bought(api, make_member, purchase_for):
    """A member who bought for 1,000,000 (100 points) on top of `points`."""

    def buy(points=0, amount=1_000_000):
        member = make_member(points=points)
        response = api.post("/transactions", purchase_for(member.id, amount))
        assert response.status_code == 201
        return member, response.get_json()

    return buy


def test_a_full_refund_takes_back_every_point(api, bought, session):
    member, purchase = bought(points=7)
    response = api.post(f"/transactions/{purchase['id']}/refund", {"reason": "returned", "external_ref": "RF-1"})
    assert response.status_code == 201
    body = response.get_json()
    assert (body["amount"], body["points_reversed"], body["points_shortfall"]) == (1_000_000, 100, 0)
    assert (body["points_balance"], body["refundable_amount"]) == (7, 0)
    assert (body["transaction_id"], body["reason"], body["external_ref"]) == (purchase["id"], "returned", "RF-1")
    shown = api.get(f"/transactions/{purchase['id']}").get_json()
    assert (shown["refunded_amount"], shown["points_reversed"]) == (1_000_000, 100)
    assert [r["id"] for r in shown["refunds"]] == [body["id"]]
    assert ledger.find_mismatches(session) == []


def test_partial_refunds_add_up_exactly_to_the_points_earned(api, bought, session):
    member, purchase = bought(amount=123_457)  # 12 points
    assert purchase["points_earned"] == 12
    reversed_ = [
        api.post(f"/transactions/{purchase['id']}/refund", {"amount": amount}).get_json()["points_reversed"]
        for amount in (50_000, 50_000, 23_457)
    ]
    assert reversed_ == [4, 5, 3]
    assert sum(reversed_) == 12
    assert api.get(f"/members/{member.id}").get_json()["points_balance"] == 0
    # nothing is left to refund
    response = api.post(f"/transactions/{purchase['id']}/refund", {})
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "refund_exceeds_purchase"
    assert ledger.find_mismatches(session) == []


def test_points_already_spent_are_reported_as_shortfall_never_negative(api, bought, session):
    member, purchase = bought()  # 100 points
    ledger.spend_points(session, member.id, 80, key="reward-1", now=datetime.now(UTC))
    session.commit()
    response = api.post(f"/transactions/{purchase['id']}/refund", {})
    assert response.status_code == 201
    body = response.get_json()
    assert (body["points_reversed"], body["points_shortfall"], body["points_balance"]) == (20, 80, 0)
    assert api.get(f"/members/{member.id}").get_json()["points_balance"] == 0
    shown = api.get(f"/transactions/{purchase['id']}").get_json()
    assert shown["refunds"][0]["points_shortfall"] == 80
    assert ledger.find_mismatches(session) == []


def test_a_refund_when_every_point_was_spent_reverses_nothing(api, bought, session):
    member, purchase = bought()
    ledger.spend_points(session, member.id, 100, key="reward-all", now=datetime.now(UTC))
    session.commit()
    body = api.post(f"/transactions/{purchase['id']}/refund", {"amount": 500_000}).get_json()
    assert (body["points_reversed"], body["points_shortfall"], body["points_balance"]) == (0, 50, 0)
    assert ledger.find_mismatches(session) == []


def test_over_refunding_is_422_and_changes_nothing(api, bought):
    member, purchase = bought()
    response = api.post(f"/transactions/{purchase['id']}/refund", {"amount": 1_000_001})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "refund_exceeds_purchase"
    assert error["details"] == {"refundable": 1_000_000}
    assert api.get(f"/members/{member.id}").get_json()["points_balance"] == 100


def test_a_refund_recorded_twice_under_new_keys_is_a_conflict(api, bought):
    member, purchase = bought()
    path = f"/transactions/{purchase['id']}/refund"
    assert api.post(path, {"amount": 100_000, "external_ref": "RF-7"}).status_code == 201
    response = api.post(path, {"amount": 100_000, "external_ref": "RF-7"})
    assert response.status_code == 409
    assert api.get(f"/members/{member.id}").get_json()["points_balance"] == 90


@pytest.mark.parametrize("transaction_id", ["31337", str(2**63)])
def test_refunding_an_unknown_transaction_is_404(api, transaction_id):
    response = api.post(f"/transactions/{transaction_id}/refund", {})
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "transaction_not_found"


@pytest.mark.parametrize(
    ("body", "field"),
    [({"amount": 0}, "amount"), ({"amount": -10}, "amount"), ({"amount": "10"}, "amount"),
     ({"amount": False}, "amount"), ({"amount": 10**16}, "amount"), ({"reason": "x" * 301}, "reason"),
     ({"why": "broken"}, "why")],
)
def test_bad_refund_bodies_are_422(api, bought, body, field):
    _member, purchase = bought()
    response = api.post(f"/transactions/{purchase['id']}/refund", body)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["details"]


@pytest.mark.real_commits
def test_concurrent_partial_refunds_never_refund_more_than_was_paid(app, api, api_key, bought, session):
    """Twelve tills refund 100,000 each of a 1,000,000 purchase at once: exactly ten
    succeed, the points taken back add up to the 100 earned, and nothing goes negative."""
    import threading

    from webapp.models import Purchase

    member, purchase = bought()
    start = threading.Barrier(12)
    answers = []

    def refund(n):
        client = app.test_client()
        start.wait()
        response = client.post(f"/api/v1/transactions/{purchase['id']}/refund", data='{"amount": 100000}',
                               content_type="application/json",
                               headers={"Authorization": f"Bearer {api_key}", "Idempotency-Key": f"r{n}"})
        answers.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=refund, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(status for status, _a in answers) == [201] * 10 + [422] * 2
    assert {a["error"]["code"] for s, a in answers if s == 422} == {"refund_exceeds_purchase"}
    assert sum(a["points_reversed"] for s, a in answers if s == 201) == 100
    session.expire_all()
    assert session.get(Purchase, purchase["id"]).refunded_amount == 1_000_000
    assert api.get(f"/members/{member.id}").get_json()["points_balance"] == 0
    assert ledger.find_mismatches(session) == []
