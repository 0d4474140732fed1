"""Stored API answers are forgotten after the retention the API documents, by a
real RQ worker; ledger effects stay, and a second run deletes nothing."""

from datetime import timedelta

from sqlalchemy import func, select

from webapp.extensions import db
from webapp.jobs import get_queue
from webapp.jobs.maintenance import purge_idempotency_keys
from webapp.models import ApiIdempotency, LedgerEntry, utcnow
from webapp.services.maintenance import IDEMPOTENCY_RETENTION

OCCURRED_AT = (utcnow() - timedelta(hours=1)).isoformat()


def _post_purchase(client, key, member_id, auth):
    return client.post(
        "/api/v1/transactions",
        json={"member_id": member_id, "amount": 500_000, "currency": "IRR",
              "occurred_at": OCCURRED_AT},
        headers={"Authorization": f"Bearer {auth}", "Idempotency-Key": key},
    )


def _stored_keys(app) -> set[str]:
    with app.app_context():
        return set(db.session.scalars(select(ApiIdempotency.key)))


def test_old_answers_are_purged_and_new_ones_kept(app, client, api_key, make_member, run_worker):
    member = make_member()
    assert _post_purchase(client, "old-key", member.id, api_key).status_code == 201
    assert _post_purchase(client, "new-key", member.id, api_key).status_code == 201
    with app.app_context():
        old = db.session.scalar(select(ApiIdempotency).where(ApiIdempotency.key == "old-key"))
        old.created_at = utcnow() - IDEMPOTENCY_RETENTION - timedelta(minutes=1)
        db.session.commit()

    for _ in range(2):  # the second run finds nothing to delete
        with app.app_context():
            get_queue("low").enqueue(purge_idempotency_keys)
        run_worker()
        assert _stored_keys(app) == {"new-key"}

    with app.app_context():
        entries = db.session.scalar(select(func.count()).select_from(LedgerEntry))
    assert entries == 2  # the purchases' points are untouched
    # a fresh request with the purged key is a new operation now; the kept key still replays
    replay = _post_purchase(client, "new-key", member.id, api_key)
    assert replay.headers.get("Idempotent-Replayed") == "true"
