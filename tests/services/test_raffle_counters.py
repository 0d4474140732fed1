"""A raffle keeps its entries and tickets on its row, moved by every way tickets
are added (bought, coupons, tier perks) in the same transaction: they always
equal the sums over the entries, through refusals and cancelling, and a ticket
is no new club configuration version."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from tests.factories import buy_tickets, make_raffle
from webapp.models import ClubConfig, Raffle, RaffleEntry
from webapp.services import ledger, tiers
from webapp.services.errors import InsufficientPoints
from webapp.services.members import audit
from webapp.services.offers import rewards
from webapp.services.play import raffles


def counters(session, raffle_id) -> tuple[int, int]:
    session.expire_all()
    raffle = session.get(Raffle, raffle_id)
    return raffle.entries_count, raffle.tickets_total


def sums(session, raffle_id) -> tuple[int, int]:
    entries, tickets = session.execute(
        select(func.count(), func.coalesce(func.sum(RaffleEntry.tickets), 0))
        .where(RaffleEntry.raffle_id == raffle_id, RaffleEntry.tickets > 0)).one()
    return int(entries), int(tickets)


def ticket_coupon(session, member_id, now, tickets):
    reward = rewards.save_reward(session, rewards.RewardData(
        kind="raffle_tickets", name_fa="بلیت", name_en="Tickets", cost_points=0, value=tickets,
        status="active"), actor=audit.CLI, now=now)
    coupon = rewards.grant_reward(session, member_id=member_id, reward_id=reward.id,
                                  key=f"t:{member_id}:{reward.id}", now=now)
    session.commit()
    return coupon.id


def test_a_new_raffle_counts_nothing(session, now):
    raffle_id = make_raffle(session, now)
    assert counters(session, raffle_id) == (0, 0) == sums(session, raffle_id)


def test_bought_coupon_and_perk_tickets_move_the_counters_to_the_sums(session, make_member, now):
    tiers.save_program(session, tiers.default_program(), actor=audit.CLI, now=now)
    session.commit()
    raffle_id = make_raffle(session, now, max_tickets_per_member=6)
    perked, buyer, with_coupon = (make_member(points=1_000, now=now) for _ in range(3))
    tiers.set_override(session, member_id=perked.id, tier_code="platinum", until=now + timedelta(days=30),
                       reason="perk", actor=audit.CLI, now=now)
    session.commit()
    extra = tiers.member_level(session, session.get(type(perked), perked.id)).perks["extra_raffle_tickets"]
    assert extra > 0

    buy_tickets(session, raffle_id, perked.id, 2, now)  # the first entry: the perk's tickets too
    assert counters(session, raffle_id) == (1, 2 + extra)
    buy_tickets(session, raffle_id, perked.id, 1, now)  # the same entry: no new entry
    buy_tickets(session, raffle_id, buyer.id, 4, now)
    raffles.apply_coupon(session, raffle_id=raffle_id, member_id=with_coupon.id,
                         coupon_id=ticket_coupon(session, with_coupon.id, now, 3), now=now)
    session.commit()

    assert counters(session, raffle_id) == (3, 3 + extra + 4 + 3) == sums(session, raffle_id)
    assert raffles.raffle_stats(session, [raffle_id])[raffle_id] == raffles.RaffleStats(3, 10 + extra)
    assert raffles.counter_mismatches(session) == []


def test_refused_and_replayed_additions_leave_the_counters_alone(session, make_member, now):
    raffle_id = make_raffle(session, now, max_tickets_per_member=5)
    member = make_member(points=1_000, now=now)
    buy_tickets(session, raffle_id, member.id, 4, now, key="once")
    buy_tickets(session, raffle_id, member.id, 4, now, key="once")  # the same request again
    with pytest.raises(raffles.TicketLimitReached):
        buy_tickets(session, raffle_id, member.id, 2, now)
    session.rollback()
    poor = make_member(points=5, now=now)
    with pytest.raises(InsufficientPoints):
        buy_tickets(session, raffle_id, poor.id, 1, now)
    session.rollback()

    assert counters(session, raffle_id) == (1, 4) == sums(session, raffle_id)


def test_cancelling_refunds_the_points_and_the_counters_still_equal_the_entries(session, make_member, now):
    raffle_id = make_raffle(session, now)
    a, b = make_member(points=1_000, now=now), make_member(points=1_000, now=now)
    buy_tickets(session, raffle_id, a.id, 3, now)
    buy_tickets(session, raffle_id, b.id, 7, now)
    raffles.cancel_raffle(session, raffle_id, actor=audit.CLI, now=now)
    session.commit()

    assert ledger.balance_of(session, a.id, "points") == 1_000
    assert counters(session, raffle_id) == (2, 10) == sums(session, raffle_id)
    assert raffles.counter_mismatches(session) == []


def test_the_close_freezes_what_the_counters_say(session, make_member, now):
    raffle_id = make_raffle(session, now)
    for quantity in (1, 5, 2):
        buy_tickets(session, raffle_id, make_member(points=1_000, now=now).id, quantity, now)
    before = counters(session, raffle_id)
    assert raffles.freeze_entries(session, raffle_id, now + timedelta(days=1))
    session.commit()
    assert before == (3, 8) == counters(session, raffle_id) == sums(session, raffle_id)


def test_a_ticket_is_no_new_configuration_version_but_a_rename_is(session, make_member, now):
    raffle_id = make_raffle(session, now)
    member = make_member(points=1_000, now=now)
    token = session.scalar(select(ClubConfig.token))
    buy_tickets(session, raffle_id, member.id, 2, now)
    assert session.scalar(select(ClubConfig.token)) == token
    spec = raffles.spec_of(session, session.get(Raffle, raffle_id))
    raffles.update_raffle(session, raffle_id, replace(spec, name_en="Winter raffle"), actor=audit.CLI, now=now)
    session.commit()
    assert session.scalar(select(ClubConfig.token)) != token


def test_counter_mismatches_name_the_raffle_whose_counters_drifted(session, make_member, now):
    raffle_id = make_raffle(session, now)
    make_raffle(session, now)  # right: not listed
    buy_tickets(session, raffle_id, make_member(points=1_000, now=now).id, 3, now)
    session.execute(text("UPDATE raffle SET tickets_total = tickets_total + 1 WHERE id = :id"), {"id": raffle_id})
    session.commit()
    assert raffles.counter_mismatches(session) == [raffles.setup.CounterMismatch(raffle_id, 1, 4, 1, 3)]
