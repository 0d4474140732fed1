"""The raffle draw with real Redis and a real RQ worker in burst mode: the
minute cron closes the raffle and enqueues its draw; the worker freezes, draws
and awards; running it again changes nothing; a worker that died after any
step leaves a draw that finishes with the same winners and no prize twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rq.job import JobStatus
from sqlalchemy import func, select

import games.raffle as engine
from tests.factories import SEED, buy_tickets, make_raffle, prize
from webapp.jobs import get_queue
from webapp.jobs.raffles import close_and_draw_due, draw_raffle, job_id
from webapp.models import InboxMessage, LedgerEntry, Raffle
from webapp.services import ledger
from webapp.services.play import raffles

PRIZES = (prize("points", amount=1_000), prize("credit", quantity=2, amount=20_000))


def enqueue(app, func, *args, **kwargs):
    with app.app_context():
        return get_queue("default").enqueue(func, *args, **kwargs)


def a_raffle_with_entries(session, make_member, count=12):
    """Closed an hour ago by the wall clock, draw time passed too."""
    start = datetime.now(UTC) - timedelta(days=2)
    raffle_id = make_raffle(session, start, prizes=PRIZES, alternates=2,
                            closes_at=datetime.now(UTC) - timedelta(hours=1),
                            draw_at=datetime.now(UTC) - timedelta(minutes=5))
    for n in range(count):
        member = make_member(points=1_000, now=start)
        buy_tickets(session, raffle_id, member.id, n % 5 + 1, start)
    return raffle_id


def outcome(session, raffle_id):
    session.rollback()
    return {
        "winners": [(w.rank, w.entry_code, w.slot) for w in raffles.winners(session, raffle_id)],
        "prize_entries": session.scalar(select(func.count()).select_from(LedgerEntry)
                                        .where(LedgerEntry.idempotency_key.like(f"raffle:{raffle_id}:prize:%"))),
        "ledger_entries": session.scalar(select(func.count()).select_from(LedgerEntry)),
        "messages": session.scalar(select(func.count()).select_from(InboxMessage)
                                   .where(InboxMessage.kind == "raffle_won")),
    }


def expected_codes(session, raffle_id):
    raffle = session.get(Raffle, raffle_id)
    result = engine.verify(raffle.entries_file, SEED.hex(), "", raffle_id, 3, 2, commitment_hex=raffle.commitment)
    return [*result.winners, *result.alternates]


def test_the_cron_closes_the_raffle_and_the_worker_draws_and_awards_once(app, session, make_member, run_worker):
    raffle_id = a_raffle_with_entries(session, make_member)
    cron = enqueue(app, close_and_draw_due)
    run_worker()  # the cron job enqueues the draw; the burst worker drains both
    assert cron.get_status() == JobStatus.FINISHED
    assert cron.return_value() == {"closed": [raffle_id], "enqueued": [raffle_id]}
    first = outcome(session, raffle_id)
    raffle = session.get(Raffle, raffle_id)
    assert raffle.status == "drawn" and raffle.awarded_at is not None
    assert [code for _r, code, _s in first["winners"]] == expected_codes(session, raffle_id)
    assert first["prize_entries"] == 3 and first["messages"] == 3

    enqueue(app, draw_raffle, raffle_id, job_id=job_id(raffle_id))
    enqueue(app, close_and_draw_due)
    run_worker()
    assert outcome(session, raffle_id) == first
    assert ledger.find_mismatches(session) == []


def test_a_worker_killed_after_the_freeze_draws_the_same_winners(app, session, make_member, run_worker):
    raffle_id = a_raffle_with_entries(session, make_member)
    assert raffles.freeze_entries(session, raffle_id, datetime.now(UTC))  # the step that survived
    session.commit()
    frozen = session.get(Raffle, raffle_id).entries_file

    enqueue(app, draw_raffle, raffle_id, job_id=job_id(raffle_id))
    run_worker()

    after = outcome(session, raffle_id)
    assert session.get(Raffle, raffle_id).entries_file == frozen
    assert [code for _r, code, _s in after["winners"]] == expected_codes(session, raffle_id)
    assert after["prize_entries"] == 3 and ledger.find_mismatches(session) == []


def test_a_worker_killed_after_the_draw_awards_each_prize_once(app, session, make_member, run_worker):
    raffle_id = a_raffle_with_entries(session, make_member)
    now = datetime.now(UTC)
    raffles.freeze_entries(session, raffle_id, now)
    session.commit()
    raffles.draw_winners(session, raffle_id, now)
    session.commit()
    drawn = outcome(session, raffle_id)["winners"]
    assert raffle_id in raffles.draw_due_ids(session, now)  # drawn but not awarded: the cron picks it up

    enqueue(app, close_and_draw_due)
    run_worker()
    enqueue(app, draw_raffle, raffle_id, job_id=job_id(raffle_id))
    run_worker()

    after = outcome(session, raffle_id)
    assert after["winners"] == drawn and after["prize_entries"] == 3 and after["messages"] == 3
    assert ledger.find_mismatches(session) == []


def test_the_cron_leaves_raffles_before_their_draw_time_closed_but_undrawn(app, session, make_member, run_worker):
    start = datetime.now(UTC) - timedelta(days=1)
    raffle_id = make_raffle(session, start, closes_at=datetime.now(UTC) - timedelta(minutes=1),
                            draw_at=datetime.now(UTC) + timedelta(hours=1))
    buy_tickets(session, raffle_id, make_member(points=100, now=start).id, 2, start)
    cron = enqueue(app, close_and_draw_due)
    run_worker()
    assert cron.return_value() == {"closed": [raffle_id], "enqueued": []}
    session.rollback()
    assert session.get(Raffle, raffle_id).status == "closed"
