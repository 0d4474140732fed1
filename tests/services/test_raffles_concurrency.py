"""Twenty ticket buys at once by one member, each thread with its own session
and connection as web workers have (CI runs this on PostgreSQL; on SQLite
BEGIN IMMEDIATE serialises them): the cap and the balance always hold, one
request key buys once, and a close racing the buys freezes exactly what was bought."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

import games.raffle as engine
from tests.factories import make_raffle
from tests.helpers.threads import run_together
from webapp.extensions import db
from webapp.models import LedgerEntry, Raffle, RaffleEntry, RaffleTickets
from webapp.services import ledger
from webapp.services.errors import InsufficientPoints
from webapp.services.play import raffles

pytestmark = pytest.mark.real_commits  # threads with their own sessions: real commits

THREADS = 20


def buy_all(app, now, raffle_id, member_id, quantity, key=lambda i: f"req-{i}"):
    return run_together(app, THREADS, lambda i: raffles.buy_tickets(
        db.session, raffle_id=raffle_id, member_id=member_id, quantity=quantity, request_key=key(i), now=now))


def test_concurrent_buys_by_one_member_never_exceed_the_cap(app, session, make_member, now):
    raffle_id = make_raffle(session, now, max_tickets_per_member=7, ticket_price=1)
    member_id = make_member(points=10_000, now=now).id
    session.remove()

    outcomes = buy_all(app, now, raffle_id, member_id, 2)

    assert sum(isinstance(o, raffles.TicketsAdded) for o in outcomes) == 3, outcomes
    assert all(isinstance(o, (raffles.TicketsAdded, raffles.TicketLimitReached)) for o in outcomes)
    assert raffles.entry_of(session, raffle_id, member_id).tickets == 6
    assert ledger.balance_of(session, member_id, "points") == 10_000 - 6
    assert ledger.find_mismatches(session) == []


def test_concurrent_buys_by_one_member_never_overdraw(app, session, make_member, now):
    raffle_id = make_raffle(session, now, max_tickets_per_member=1_000, ticket_price=10)
    member_id = make_member(points=95, now=now).id
    session.remove()

    outcomes = buy_all(app, now, raffle_id, member_id, 3)  # 30 points each: three fit

    assert sum(isinstance(o, raffles.TicketsAdded) for o in outcomes) == 3, outcomes
    assert all(isinstance(o, (raffles.TicketsAdded, InsufficientPoints)) for o in outcomes)
    assert raffles.entry_of(session, raffle_id, member_id).tickets == 9
    assert ledger.balance_of(session, member_id, "points") == 5
    assert ledger.find_mismatches(session) == []


def test_one_request_key_sent_twenty_times_at_once_buys_once(app, session, make_member, now):
    raffle_id = make_raffle(session, now)
    member_id = make_member(points=1_000, now=now).id
    session.remove()

    outcomes = buy_all(app, now, raffle_id, member_id, 4, key=lambda i: "the-same-token")

    assert all(isinstance(o, raffles.TicketsAdded) for o in outcomes), outcomes
    assert sum(not o.replayed for o in outcomes) == 1
    assert session.scalar(select(func.count()).select_from(RaffleTickets)) == 1
    assert ledger.balance_of(session, member_id, "points") == 960


def test_a_close_racing_buys_freezes_exactly_what_was_bought(app, session, make_member, now):
    raffle_id = make_raffle(session, now, ticket_price=1, max_tickets_per_member=50)
    members = [make_member(points=100, now=now).id for _ in range(THREADS - 1)]
    session.remove()
    close = now + timedelta(days=1)

    def work(i):
        if i == THREADS - 1:
            return raffles.freeze_entries(db.session, raffle_id, close)
        # bought "just before the close": a buy either commits before the freeze or sees it closed
        return raffles.buy_tickets(db.session, raffle_id=raffle_id, member_id=members[i], quantity=i + 1,
                                   request_key=f"r-{i}", now=close - timedelta(microseconds=1)
                                   if i % 2 else now)

    outcomes = run_together(app, THREADS, work)

    assert outcomes[-1] is True
    assert all(isinstance(o, (raffles.TicketsAdded, raffles.RaffleClosed)) for o in outcomes[:-1]), outcomes
    raffle = session.get(Raffle, raffle_id)
    frozen = {e.entry_id: e.tickets for e in engine.parse_entries_file(raffle.entries_file)}
    bought = dict(session.execute(select(RaffleEntry.code, RaffleEntry.tickets)).all())
    assert frozen == {code: t for code, t in bought.items() if t > 0}
    spent = -(session.scalar(select(func.sum(LedgerEntry.amount)).where(LedgerEntry.kind == "spend")) or 0)
    assert spent == sum(frozen.values()) == raffle.tickets_total


def test_many_members_buying_at_once_all_get_their_tickets_and_every_ticket_is_counted(app, session, make_member,
                                                                                           now):
    raffle_id = make_raffle(session, now, ticket_price=1, max_tickets_per_member=50)
    members = [make_member(points=100, now=now).id for _ in range(THREADS)]
    session.remove()

    outcomes = run_together(app, THREADS, lambda i: raffles.buy_tickets(
        db.session, raffle_id=raffle_id, member_id=members[i], quantity=i + 1, request_key=f"m-{i}", now=now))

    assert all(isinstance(o, raffles.TicketsAdded) for o in outcomes), outcomes  # no deadlock, no refusal
    raffle = session.get(Raffle, raffle_id)
    assert (raffle.entries_count, raffle.tickets_total) == (THREADS, THREADS * (THREADS + 1) // 2)
    assert raffles.counter_mismatches(session) == []
