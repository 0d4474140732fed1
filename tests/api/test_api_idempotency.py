"""Idempotency-Key: same key + same request = same answer and no second effect."""

import json
import threading

import pytest
from sqlalchemy import func, select

from webapp.models import ApiIdempotency, LedgerEntry, Member, Purchase


def _count(session, model):
    return session.scalar(select(func.count()).select_from(model))


def test_replaying_a_purchase_returns_the_same_answer_and_changes_nothing(api, make_member, purchase_for, session):
    member = make_member()
    body = purchase_for(member.id, external_ref="R-1")
    first = api.post("/transactions", body, key="till-1-receipt-1")
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first.headers
    # the same JSON with another key order and spacing is the same request
    again = api.post("/transactions", key="till-1-receipt-1",
                     data=json.dumps(dict(reversed(list(body.items()))), indent=2),
                     content_type="application/json; charset=utf-8")
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_data() == first.get_data()
    assert _count(session, Purchase) == 1
    assert _count(session, LedgerEntry) == 1
    assert api.get(f"/members/{member.id}").get_json()["points_balance"] == 100


def test_replaying_member_creation_and_refund(api, purchase_for):
    created = api.post("/members", {"email": "new@example.com"}, key="m-1")
    replay = api.post("/members", {"email": "new@example.com"}, key="m-1")
    assert (created.status_code, replay.status_code) == (201, 201)
    assert replay.get_json() == created.get_json()

    purchase = api.post("/transactions", purchase_for(created.get_json()["id"])).get_json()
    path = f"/transactions/{purchase['id']}/refund"
    first = api.post(path, {"amount": 100_000}, key="refund-1")
    second = api.post(path, {"amount": 100_000}, key="refund-1")
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.get_json() == first.get_json()
    assert api.get(f"/transactions/{purchase['id']}").get_json()["refunded_amount"] == 100_000


def test_the_same_key_with_another_body_is_409(api, make_member, purchase_for, session):
    member = make_member()
    assert api.post("/transactions", purchase_for(member.id, 1_000_000), key="k").status_code == 201
    response = api.post("/transactions", purchase_for(member.id, 2_000_000), key="k")
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "idempotency_key_reused"
    # nor may it be reused on another endpoint
    assert api.post("/members", {"email": "x@example.com"}, key="k").status_code == 409
    assert _count(session, Purchase) == 1


def test_keys_are_scoped_per_api_key(api, api_as, make_api_key, make_member, purchase_for, session):
    member = make_member()
    other = api_as(make_api_key())
    assert api.post("/transactions", purchase_for(member.id), key="shared").status_code == 201
    response = other.post("/transactions", purchase_for(member.id), key="shared")
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response.headers
    assert _count(session, Purchase) == 2


def test_errors_are_not_stored_so_a_retry_runs_again(api, make_member, purchase_for, session):
    member = make_member()
    session.get(Member, member.id).status = "suspended"
    session.commit()
    refused = api.post("/transactions", purchase_for(member.id), key="retry-me")
    assert refused.status_code == 409
    assert _count(session, ApiIdempotency) == 0
    session.get(Member, member.id).status = "active"
    session.commit()
    retried = api.post("/transactions", purchase_for(member.id), key="retry-me")
    assert retried.status_code == 201
    assert "Idempotent-Replayed" not in retried.headers
    assert _count(session, Purchase) == 1


@pytest.mark.parametrize(
    ("value", "code"),
    [(None, "missing_idempotency_key"), ("", "missing_idempotency_key"),
     ("x" * 201, "invalid_idempotency_key"), ("schlüssel", "invalid_idempotency_key"),
     ("tab\there", "invalid_idempotency_key")],
)
def test_posts_need_a_valid_idempotency_key(client, api_key, make_member, purchase_for, session, value, code):
    member = make_member()
    headers = {"Authorization": f"Bearer {api_key}"}
    if value is not None:
        headers["Idempotency-Key"] = value
    response = client.post("/api/v1/transactions", data=json.dumps(purchase_for(member.id)),
                           content_type="application/json", headers=headers)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == code
    assert _count(session, Purchase) == 0


def test_a_key_of_200_printable_characters_is_accepted(api, make_member):
    assert api.post("/members", {"email": "k@example.com"}, key="k ~" * 66 + "!!").status_code == 201


@pytest.mark.real_commits
def test_concurrent_duplicates_have_one_effect(app, api_key, make_member, purchase_for, session):
    """Eight tills retrying at once with one key: one purchase, one ledger entry,
    and every answer is the first one."""
    member = make_member()
    body = json.dumps(purchase_for(member.id, external_ref="RACE-1"))
    start = threading.Barrier(8)
    answers = []

    def post():
        client = app.test_client()
        start.wait()
        response = client.post("/api/v1/transactions", data=body, content_type="application/json",
                               headers={"Authorization": f"Bearer {api_key}", "Idempotency-Key": "race"})
        answers.append((response.status_code, response.headers.get("Idempotent-Replayed"), response.get_data()))

    threads = [threading.Thread(target=post) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [status for status, _r, _b in answers] == [201] * 8
    assert sorted(str(replayed) for _s, replayed, _b in answers) == ["None"] + ["true"] * 7
    assert len({body for _s, _r, body in answers}) == 1
    session.expire_all()
    assert _count(session, Purchase) == 1
    assert _count(session, LedgerEntry) == 1
    assert session.get(Member, member.id).points_balance == 100


@pytest.mark.real_commits
def test_concurrent_purchases_with_one_external_ref_record_it_once(app, api_key, make_member, purchase_for, session):
    """Different idempotency keys, same receipt: one is recorded, the others are
    told it is a duplicate and which transaction it duplicates."""
    member = make_member()
    body = json.dumps(purchase_for(member.id, external_ref="RACE-2"))
    start = threading.Barrier(6)
    answers = []

    def post(n):
        client = app.test_client()
        start.wait()
        response = client.post("/api/v1/transactions", data=body, content_type="application/json",
                               headers={"Authorization": f"Bearer {api_key}", "Idempotency-Key": f"k{n}"})
        answers.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=post, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    statuses = sorted(status for status, _b in answers)
    assert statuses == [201] + [409] * 5
    recorded = next(b for s, b in answers if s == 201)
    for status, answer in answers:
        if status == 409:
            assert answer["error"]["code"] == "duplicate_transaction"
            assert answer["error"]["details"]["transaction_id"] == recorded["id"]
    session.expire_all()
    assert _count(session, Purchase) == 1
    assert session.get(Member, member.id).points_balance == 100
