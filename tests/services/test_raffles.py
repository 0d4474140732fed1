"""Raffle services: defining and publishing, buying tickets (cap, balance,
eligibility, closed raffles), coupon and tier-perk tickets once, cancelling
with refunds, and the three draw steps."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, select

import games.raffle as engine
from tests.factories import SEED, buy_tickets, make_raffle, prize
from webapp.models import (
    Coupon,
    InboxMessage,
    LedgerEntry,
    Member,
    Raffle,
    RaffleEntry,
    RaffleWinner,
)
from webapp.services import ledger, tiers
from webapp.services.errors import InsufficientPoints, MemberNotActive, NotFound
from webapp.services.members import audit
from webapp.services.offers import rewards
from webapp.services.play import raffles


def test_publishing_draws_a_seed_and_shows_only_its_commitment(session, now):
    raffle_id = make_raffle(session, now, publish=False)
    assert session.get(Raffle, raffle_id).commitment is None
    raffles.publish_raffle(session, raffle_id, actor=audit.CLI, now=now)
    raffle = session.get(Raffle, raffle_id)
    assert raffle.status == "open" and len(raffle.seed) == 32
    assert raffle.commitment == engine.commitment(raffle.seed)


def test_a_published_raffle_keeps_its_prizes_price_cap_and_times(session, now):
    raffle_id = make_raffle(session, now)
    spec = raffles.spec_of(session, session.get(Raffle, raffle_id))
    for change in ({"ticket_price": 5}, {"max_tickets_per_member": 99}, {"closes_at": now + timedelta(minutes=30)},
                   {"prizes": (prize(amount=999),)}):
        with pytest.raises(raffles.RaffleLocked):
            raffles.update_raffle(session, raffle_id, replace(spec, **change), actor=audit.CLI, now=now)
        session.rollback()
    raffles.update_raffle(session, raffle_id, replace(spec, name_en="Winter raffle"), actor=audit.CLI, now=now)
    assert session.get(Raffle, raffle_id).name_en == "Winter raffle"


def test_invalid_raffles_are_refused_with_their_problems(session, now):
    spec = raffles.RaffleSpec(name_fa="", name_en="x", ticket_price=-1, max_tickets_per_member=0,
                              closes_at=now, draw_at=now - timedelta(hours=1),
                              prizes=(prize(amount=0),))
    with pytest.raises(raffles.RaffleInvalid) as caught:
        raffles.create_raffle(session, spec, actor=audit.CLI, now=now)
    assert {"name", "ticket_price", "max_tickets_per_member", "draw_at", "prize_1"} <= set(caught.value.problems)


def test_buying_spends_points_and_the_cap_counts_every_bought_ticket(session, make_member, now):
    raffle_id = make_raffle(session, now, max_tickets_per_member=5)
    member = make_member(points=1_000, now=now)
    done = buy_tickets(session, raffle_id, member.id, 3, now)
    assert done.entry.tickets == 3 and ledger.balance_of(session, member.id, "points") == 970
    with pytest.raises(raffles.TicketLimitReached):
        buy_tickets(session, raffle_id, member.id, 3, now)
    session.rollback()
    buy_tickets(session, raffle_id, member.id, 2, now)
    assert raffles.entry_of(session, raffle_id, member.id).tickets == 5
    assert ledger.balance_of(session, member.id, "points") == 950 and ledger.find_mismatches(session) == []


def test_the_same_request_key_buys_once(session, make_member, now):
    raffle_id = make_raffle(session, now)
    member = make_member(points=1_000, now=now)
    first = buy_tickets(session, raffle_id, member.id, 4, now, key="k1")
    again = buy_tickets(session, raffle_id, member.id, 4, now, key="k1")
    assert again.replayed and not first.replayed and again.entry.tickets == 4
    assert ledger.balance_of(session, member.id, "points") == 960


def test_buying_needs_the_points(session, make_member, now):
    raffle_id = make_raffle(session, now)
    member = make_member(points=25, now=now)
    with pytest.raises(InsufficientPoints):
        buy_tickets(session, raffle_id, member.id, 3, now)
    session.rollback()
    assert raffles.entry_of(session, raffle_id, member.id) is None
    assert ledger.balance_of(session, member.id, "points") == 25


def test_closed_raffles_and_inactive_members_cannot_buy(session, make_member, now):
    raffle_id = make_raffle(session, now)
    member = make_member(points=1_000, now=now)
    with pytest.raises(raffles.RaffleClosed):
        buy_tickets(session, raffle_id, member.id, 1, now + timedelta(days=1))
    session.rollback()
    session.get(Member, member.id).status = "suspended"
    session.commit()
    with pytest.raises(MemberNotActive):
        buy_tickets(session, raffle_id, member.id, 1, now)


def test_eligibility_by_minimum_tier(session, make_member, now):
    tiers.save_program(session, tiers.default_program(), actor=audit.CLI, now=now)
    gold = next(level for level in tiers.load_program(session).levels if level.code == "gold")
    raffle_id = make_raffle(session, now, min_tier_id=gold.id)
    member = make_member(points=1_000, now=now)
    with pytest.raises(raffles.RaffleNotEligible):
        buy_tickets(session, raffle_id, member.id, 1, now)


def test_eligibility_by_segment_here_those_who_referred_a_friend(session, make_member, now):
    from tests.helpers.referrals import code_of, join_through
    from webapp.services.offers import segments

    inviter, loner = make_member(points=1_000, now=now), make_member(points=1_000, now=now)
    join_through(session, code_of(session, inviter.id), now)
    segment = segments.create_segment(session, name="Inviters", conditions=[
        {"field": "referrals", "op": "gte", "value": 1}], actor=audit.CLI, now=now)
    raffle_id = make_raffle(session, now, segment_id=segment.id)
    assert buy_tickets(session, raffle_id, inviter.id, 1, now).entry.tickets == 1
    with pytest.raises(raffles.RaffleNotEligible):
        buy_tickets(session, raffle_id, loner.id, 1, now)


def test_free_only_raffles_sell_no_tickets(session, make_member, now):
    raffle_id = make_raffle(session, now, ticket_price=0)
    member = make_member(points=1_000, now=now)
    with pytest.raises(raffles.TicketsNotForSale):
        buy_tickets(session, raffle_id, member.id, 1, now)


def _ticket_coupon(session, member_id, now, tickets=3):
    reward = rewards.save_reward(session, rewards.RewardData(
        kind="raffle_tickets", name_fa="بلیت", name_en="Tickets", cost_points=0, value=tickets,
        status="active"), actor=audit.CLI, now=now)
    coupon = rewards.grant_reward(session, member_id=member_id, reward_id=reward.id, key=f"t:{member_id}:{reward.id}",
                                  now=now)
    session.commit()
    return coupon.id


def test_a_ticket_coupon_adds_its_tickets_once_and_becomes_used(session, make_member, now):
    raffle_id = make_raffle(session, now, ticket_price=0, max_tickets_per_member=5)
    other_raffle = make_raffle(session, now, ticket_price=0)
    member = make_member(now=now)
    coupon_id = _ticket_coupon(session, member.id, now, tickets=3)
    done = raffles.apply_coupon(session, raffle_id=raffle_id, member_id=member.id, coupon_id=coupon_id, now=now)
    session.commit()
    assert done.entry.tickets == 3 and done.entry.from_coupons == 3
    assert session.get(Coupon, coupon_id).status == "used"
    again = raffles.apply_coupon(session, raffle_id=raffle_id, member_id=member.id, coupon_id=coupon_id, now=now)
    assert again.replayed and again.entry.tickets == 3
    with pytest.raises(raffles.CouponNotApplicable):  # used: not in a second raffle
        raffles.apply_coupon(session, raffle_id=other_raffle, member_id=member.id, coupon_id=coupon_id, now=now)
    session.rollback()
    over = _ticket_coupon(session, member.id, now, tickets=3)  # 3 + 3 > the cap of 5
    with pytest.raises(raffles.TicketLimitReached):
        raffles.apply_coupon(session, raffle_id=raffle_id, member_id=member.id, coupon_id=over, now=now)
    session.rollback()
    assert session.get(Coupon, over).status == "issued"


def test_someone_elses_coupon_is_not_found(session, make_member, now):
    raffle_id = make_raffle(session, now, ticket_price=0)
    owner, other = make_member(now=now), make_member(now=now)
    coupon_id = _ticket_coupon(session, owner.id, now)
    with pytest.raises(NotFound):
        raffles.apply_coupon(session, raffle_id=raffle_id, member_id=other.id, coupon_id=coupon_id, now=now)


def test_tier_perk_tickets_come_once_with_the_first_entry(session, make_member, now):
    tiers.save_program(session, tiers.default_program(), actor=audit.CLI, now=now)
    platinum = next(level for level in tiers.load_program(session).levels if level.code == "platinum")
    raffle_id = make_raffle(session, now, max_tickets_per_member=2)
    member = make_member(points=1_000, now=now)
    tiers.set_override(session, member_id=member.id, tier_code="platinum", until=now + timedelta(days=30), reason="test perk",
                       actor=audit.CLI, now=now)
    session.commit()
    extra = platinum.perks["extra_raffle_tickets"]
    first = buy_tickets(session, raffle_id, member.id, 1, now)
    assert first.perk_tickets == extra and first.entry.tickets == 1 + extra
    second = buy_tickets(session, raffle_id, member.id, 1, now)  # the cap counts bought tickets only
    assert second.perk_tickets == 0 and second.entry.tickets == 2 + extra


def test_cancelling_refunds_every_bought_ticket_once(session, make_member, now):
    raffle_id = make_raffle(session, now)
    a, b = make_member(points=1_000, now=now), make_member(points=1_000, now=now)
    buy_tickets(session, raffle_id, a.id, 3, now)
    buy_tickets(session, raffle_id, a.id, 2, now)
    buy_tickets(session, raffle_id, b.id, 7, now)
    assert raffles.cancel_raffle(session, raffle_id, actor=audit.CLI, now=now) == 3
    session.commit()
    assert raffles.cancel_raffle(session, raffle_id, actor=audit.CLI, now=now) == 0
    session.commit()
    assert ledger.balance_of(session, a.id, "points") == 1_000 == ledger.balance_of(session, b.id, "points")
    assert session.get(Raffle, raffle_id).status == "cancelled"
    assert ledger.find_mismatches(session) == []
    with pytest.raises(raffles.RaffleClosed):
        buy_tickets(session, raffle_id, a.id, 1, now)


def test_cancelling_gives_back_the_ticket_coupons_used_in_that_raffle_only(session, make_member, now):
    cancelled, other = make_raffle(session, now, ticket_price=0), make_raffle(session, now, ticket_price=0)
    member = make_member(now=now)
    returned, kept = _ticket_coupon(session, member.id, now, tickets=2), _ticket_coupon(session, member.id, now)
    raffles.apply_coupon(session, raffle_id=cancelled, member_id=member.id, coupon_id=returned, now=now)
    raffles.apply_coupon(session, raffle_id=other, member_id=member.id, coupon_id=kept, now=now)
    session.commit()

    raffles.cancel_raffle(session, cancelled, actor=audit.CLI, now=now)
    session.commit()
    raffles.cancel_raffle(session, cancelled, actor=audit.CLI, now=now)  # again: nothing more
    session.commit()
    session.expire_all()
    assert (session.get(Coupon, returned).status, session.get(Coupon, returned).used_ref) == ("issued", None)
    assert session.get(Coupon, kept).status == "used"
    entry = raffles.apply_coupon(session, raffle_id=other, member_id=member.id, coupon_id=returned, now=now).entry
    session.commit()
    assert entry.tickets == 3 + 2 and session.get(Coupon, returned).used_ref == f"raffle:{other}"


def test_the_three_steps_draw_what_the_verifier_draws_and_give_each_prize_once(session, make_member, now):
    raffle_id = make_raffle(session, now, prizes=(prize("points", amount=300), prize("credit", amount=5_000),
                                                  prize("physical")), alternates=2)
    members = [make_member(points=1_000, now=now) for _ in range(6)]
    for n, m in enumerate(members, start=1):
        buy_tickets(session, raffle_id, m.id, n, now)
    later = now + timedelta(days=2)
    assert not raffles.draw_winners(session, raffle_id, later)  # not frozen yet
    assert raffles.freeze_entries(session, raffle_id, later)
    session.commit()
    raffle = session.get(Raffle, raffle_id)
    assert raffle.status == "closed" and raffle.tickets_total == 21 and raffle.entries_count == 6
    assert raffles.draw_winners(session, raffle_id, later) and not raffles.draw_winners(session, raffle_id, later)
    session.commit()
    expected = engine.verify(raffle.entries_file, SEED.hex(), "", raffle_id, 3, 2)
    assert [w.entry_code for w in raffles.winners(session, raffle_id)] == [*expected.winners, *expected.alternates]
    assert raffles.award_prizes(session, raffle_id, later) and not raffles.award_prizes(session, raffle_id, later)
    session.commit()
    prizes = session.scalars(select(LedgerEntry).where(LedgerEntry.idempotency_key.like(f"raffle:{raffle_id}:prize:%")))
    assert sorted((e.currency, e.amount) for e in prizes) == [("credit", 5_000), ("points", 300)]
    assert session.scalar(select(func.count()).select_from(InboxMessage).where(InboxMessage.kind == "raffle_won")) == 3
    assert ledger.find_mismatches(session) == []


def test_a_winner_no_longer_active_forfeits_to_the_next_alternate(session, make_member, now):
    raffle_id = make_raffle(session, now, alternates=2)
    members = [make_member(points=1_000, now=now) for _ in range(4)]
    for m in members:
        buy_tickets(session, raffle_id, m.id, 5, now)
    later = now + timedelta(days=2)
    raffles.freeze_entries(session, raffle_id, later)
    raffles.draw_winners(session, raffle_id, later)
    session.commit()
    first, alternate = raffles.winners(session, raffle_id)[:2]
    member_of = dict(session.execute(select(RaffleEntry.id, RaffleEntry.member_id)).all())
    session.get(Member, member_of[first.entry_id]).status = "closed"
    session.commit()
    raffles.award_prizes(session, raffle_id, later)
    session.commit()
    first, alternate = session.get(RaffleWinner, first.id), session.get(RaffleWinner, alternate.id)
    assert first.forfeited and first.slot is None and first.awarded_at is None
    assert alternate.slot == 1 and alternate.awarded_at is not None
    entry = session.scalar(select(LedgerEntry).where(LedgerEntry.idempotency_key == f"raffle:{raffle_id}:prize:1"))
    assert entry.member_id == member_of[alternate.entry_id] and entry.amount == 500


def test_a_named_public_value_holds_the_draw_until_it_is_entered(session, make_member, now):
    raffle_id = make_raffle(session, now, public_value_source="drand round 123456")
    member = make_member(points=1_000, now=now)
    buy_tickets(session, raffle_id, member.id, 2, now)
    later = now + timedelta(days=2)
    with pytest.raises(raffles.RaffleWrongStatus):
        raffles.set_public_value(session, raffle_id, "early", actor=audit.CLI, now=now)
    session.rollback()
    raffles.freeze_entries(session, raffle_id, later)
    session.commit()
    assert raffle_id not in raffles.draw_due_ids(session, later)
    assert not raffles.draw_winners(session, raffle_id, later)
    raffles.set_public_value(session, raffle_id, "abc123", actor=audit.CLI, now=later)
    session.commit()
    assert raffle_id in raffles.draw_due_ids(session, later)
    assert raffles.draw_winners(session, raffle_id, later)
    raffle = session.get(Raffle, raffle_id)
    assert raffle.draw_key == engine.verify(raffle.entries_file, SEED.hex(), "abc123", raffle_id, 1, 1).key_hex


def test_odds_are_integer_basis_points():
    assert raffles.odds_bp(1, 3) == 3333 and raffles.odds_bp(0, 0) == 0 and raffles.odds_bp(5, 5) == 10_000


def test_the_demo_club_has_one_open_raffle_once(session, now):
    from webapp.demo.raffles import load_demo_raffles

    load_demo_raffles(session, now=now)
    load_demo_raffles(session, now=now)
    [raffle] = session.scalars(select(Raffle)).all()
    assert raffle.status == "open" and raffle.commitment and len(raffles.prizes_of(session, raffle.id)) == 2


def test_the_first_entry_earns_the_raffle_entered_rules_once(session, make_member, now):
    from webapp.services.offers import earn_rules
    from webapp.services.offers.rule_engine import Conditions, Rule

    row = earn_rules.create_rule(session, Rule(None, None, "raffle_entered", "شرکت در قرعه‌کشی", "Raffle entered",
                                               Conditions(), effect="fixed", points=15, use_tier_multiplier=False),
                                 actor=audit.CLI, now=now - timedelta(days=1))
    earn_rules.activate_rule(session, row.id, actor=audit.CLI, now=now - timedelta(days=1))
    session.commit()
    raffle_id = make_raffle(session, now)
    member = make_member(points=1_000, now=now)
    buy_tickets(session, raffle_id, member.id, 1, now)
    buy_tickets(session, raffle_id, member.id, 2, now)
    assert ledger.balance_of(session, member.id, "points") == 1_000 - 30 + 15
    earned = session.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.source_type == "earn_rule"))
    assert earned == 1


def test_a_raffle_nobody_entered_draws_no_winners(session, now):
    raffle_id = make_raffle(session, now)
    later = now + timedelta(days=2)
    assert raffles.freeze_entries(session, raffle_id, later)
    assert raffles.draw_winners(session, raffle_id, later) and raffles.award_prizes(session, raffle_id, later)
    raffle = session.get(Raffle, raffle_id)
    assert raffle.entries_file == b"" and raffle.entries_digest == engine.entries_digest(b"")
    assert raffles.winners(session, raffle_id) == [] and raffle.status == "drawn"
