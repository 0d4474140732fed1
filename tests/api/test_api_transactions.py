"""POST /transactions and GET /transactions/{id}."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from webapp.models import LedgerEntry, Member, Purchase


def _count(session, model):
    return session.scalar(select(func.count()).select_from(model))


def test_a_purchase_earns_points_by_the_base_rule(api, make_member, purchase_for):
    member = make_member(points=5)
    items = [{"sku": "A-1", "category": "coffee", "qty": 2, "price": 250_000},
             {"qty": 1, "price": 500_000}]
    response = api.post("/transactions", purchase_for(member.id, 1_000_000, items=items,
                                                      external_ref="R-1", channel="store",
                                                      store="Tehran 1"))
    assert response.status_code == 201
    body = response.get_json()
    # default rule: 1 point per full 10,000
    assert body["points_earned"] == 100
    assert (body["points_balance"], body["credit_balance"]) == (105, 0)
    assert (body["member_id"], body["amount"], body["external_ref"]) == (member.id, 1_000_000, "R-1")
    assert body["items"] == [{"sku": "A-1", "category": "coffee", "qty": 2, "price": 250_000},
                             {"sku": None, "category": None, "qty": 1, "price": 500_000}]
    assert body["occurred_at"].endswith("Z") and body["refunds"] == []

    shown = api.get(f"/transactions/{body['id']}")
    assert shown.status_code == 200
    assert {k: v for k, v in body.items() if k not in ("points_balance", "credit_balance")} == shown.get_json()
    assert api.get(f"/members/{member.id}").get_json()["points_balance"] == 105


def test_occurred_at_is_stored_in_utc(api, make_member, purchase_for):
    member = make_member()
    when = (datetime.now(UTC) - timedelta(days=2)).replace(microsecond=0)
    local = when.astimezone(timezone(timedelta(hours=3, minutes=30))).isoformat()
    assert local.endswith("+03:30")
    body = api.post("/transactions", purchase_for(member.id, occurred_at=local)).get_json()
    assert body["occurred_at"] == when.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_small_purchase_earns_nothing_but_is_recorded(api, make_member, purchase_for, session):
    member = make_member()
    response = api.post("/transactions", purchase_for(member.id, 9_999))
    assert response.status_code == 201
    assert response.get_json()["points_earned"] == 0
    assert _count(session, LedgerEntry) == 0


def test_a_duplicate_external_ref_is_409_naming_the_original(api, make_member, purchase_for, session):
    member = make_member()
    first = api.post("/transactions", purchase_for(member.id, external_ref="R-9")).get_json()
    response = api.post("/transactions", purchase_for(member.id, 2_000_000, external_ref="R-9"))
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "duplicate_transaction"
    assert error["details"] == {"external_ref": "R-9", "transaction_id": first["id"]}
    assert _count(session, Purchase) == 1
    assert api.get(f"/members/{member.id}").get_json()["points_balance"] == 100


@pytest.mark.parametrize("member_id", [987654, 2**31 - 1])
def test_an_unknown_member_is_404(api, make_member, purchase_for, member_id):
    make_member()
    response = api.post("/transactions", purchase_for(member_id))
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "member_not_found"


def test_a_suspended_member_cannot_earn(api, make_member, purchase_for, session):
    member = make_member()
    session.get(Member, member.id).status = "suspended"
    session.commit()
    response = api.post("/transactions", purchase_for(member.id))
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "member_not_active"
    assert _count(session, Purchase) == 0


def test_an_unknown_transaction_is_404(api):
    for transaction_id in ("424242", str(2**64)):
        response = api.get(f"/transactions/{transaction_id}")
        assert response.status_code == 404
        assert response.get_json()["error"]["code"] == "transaction_not_found"


def _future(days):
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


BAD = [
    # wrong types, booleans are not integers
    ({"member_id": "1"}, "member_id"),
    ({"member_id": True}, "member_id"),
    ({"member_id": 1.0}, "member_id"),
    ({"amount": "1000"}, "amount"),
    ({"amount": True}, "amount"),
    ({"amount": 1000.5}, "amount"),
    ({"amount": [1000]}, "amount"),
    # negative, zero and absurd amounts
    ({"amount": 0}, "amount"),
    ({"amount": -5000}, "amount"),
    ({"amount": 10**15 + 1}, "amount"),
    ({"amount": 10**40}, "amount"),
    ({"member_id": 0}, "member_id"),
    ({"member_id": -1}, "member_id"),
    ({"member_id": 2**31}, "member_id"),
    ({"member_id": 2**63}, "member_id"),
    # currency
    ({"currency": "USD"}, "currency"),
    ({"currency": "irr"}, "currency"),
    ({"currency": 364}, "currency"),
    ({"currency": None}, "currency"),
    # occurred_at
    ({"occurred_at": "yesterday"}, "occurred_at"),
    ({"occurred_at": "2026-11-20T10:00:00"}, "occurred_at"),
    ({"occurred_at": "2026-11-20"}, "occurred_at"),
    ({"occurred_at": 1763625600}, "occurred_at"),
    ({"occurred_at": "1999-12-31T23:59:59Z"}, "occurred_at"),
    ({"occurred_at": "0001-01-01T00:00:00+14:00"}, "occurred_at"),
    ({"occurred_at": _future(2)}, "occurred_at"),
    # items
    ({"items": {"sku": "A"}}, "items"),
    ({"items": [{"qty": 1, "price": 1}] * 201}, "items"),
    ({"items": ["A-1"]}, "items[0]"),
    ({"items": [{"price": 100}]}, "items[0].qty"),
    ({"items": [{"qty": 0, "price": 100}]}, "items[0].qty"),
    ({"items": [{"qty": 10_001, "price": 100}]}, "items[0].qty"),
    ({"items": [{"qty": True, "price": 100}]}, "items[0].qty"),
    ({"items": [{"qty": 1, "price": 100}, {"qty": 1, "price": -1}]}, "items[1].price"),
    ({"items": [{"qty": 1, "price": 10**15 + 1}]}, "items[0].price"),
    ({"items": [{"qty": 1, "price": 1, "sku": "x" * 65}]}, "items[0].sku"),
    ({"items": [{"qty": 1, "price": 1, "discount": 5}]}, "items[0].discount"),
    # strings and unknown fields
    ({"external_ref": "x" * 101}, "external_ref"),
    ({"external_ref": 123}, "external_ref"),
    ({"channel": "x" * 33}, "channel"),
    ({"store": {"name": "A"}}, "store"),
    ({"points": 1000}, "points"),
]


@pytest.mark.parametrize(("change", "field"), BAD, ids=[f"{f}-{i}" for i, (_c, f) in enumerate(BAD)])
def test_bad_purchases_are_422_naming_the_field(api, make_member, purchase_for, session, change, field):
    member = make_member()
    response = api.post("/transactions", {**purchase_for(member.id), **change})
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "invalid"
    assert field in error["details"], error["details"]
    assert _count(session, Purchase) == 0


@pytest.mark.parametrize("missing", ["member_id", "amount", "currency", "occurred_at"])
def test_required_fields_are_named_when_missing(api, make_member, purchase_for, missing):
    body = purchase_for(make_member().id)
    del body[missing]
    response = api.post("/transactions", body)
    assert response.status_code == 422
    assert response.get_json()["error"]["details"] == {missing: "required"}


def test_every_bad_field_is_named_at_once(api):
    response = api.post("/transactions", {"member_id": "x", "amount": -1, "currency": "USD",
                                          "occurred_at": "soon", "extra": 1})
    assert response.status_code == 422
    assert set(response.get_json()["error"]["details"]) == {
        "member_id", "amount", "currency", "occurred_at", "extra"}
