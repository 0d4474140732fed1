"""Challenges on the real database: each goal metric recomputed from purchases,
eligibility by tier and segment, joining twice, completion rewarded exactly once
(also when two purchases complete it at the same moment), refunds before and
after completion, the earn perk ending with the challenge, and staff rules."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests import factories
from tests.helpers.threads import run_together
from webapp.extensions import db
from webapp.models import (
    AuditLog,
    ChallengeEntry,
    Coupon,
    InboxMessage,
    LedgerEntry,
    Member,
    Segment,
)
from webapp.services import ledger, tiers
from webapp.services.ledger.purchases import ItemLine, record_purchase, refund_purchase
from webapp.services.members import audit
from webapp.services.offers import challenges, segments
from webapp.services.offers.challenges import ChallengeSpec
from webapp.services.tiers.rules import Level, Program

DAY = timedelta(days=1)


def spec(now, **changes) -> ChallengeSpec:
    values = {"name_fa": "پنج خرید", "name_en": "Five purchases", "metric": "purchase_count", "goal": 5,
              "starts_at": now - DAY, "ends_at": now + 30 * DAY, "reward_points": 500}
    return ChallengeSpec(**{**values, **changes})


def running(session, now, **changes):
    challenge = challenges.create_challenge(session, spec(now, **changes), actor=audit.CLI, now=now)
    challenges.activate_challenge(session, challenge.id, actor=audit.CLI, now=now)
    session.commit()
    return challenge


def buy(session, member_id, when, amount=100_000, items=()):
    purchase, _balance = record_purchase(session, member_id=member_id, amount=amount, currency="IRR",
                                         occurred_at=when, now=when, items=list(items))
    session.commit()
    return purchase


def entry_of(session, challenge, member):
    session.expire_all()
    return session.scalar(select(ChallengeEntry).where(ChallengeEntry.challenge_id == challenge.id,
                                                       ChallengeEntry.member_id == member.id))


def rewards_posted(session, challenge, member) -> list[int]:
    return list(session.scalars(select(LedgerEntry.amount).where(
        LedgerEntry.idempotency_key == f"challenge:{challenge.id}:member:{member.id}:reward")))


def completed_messages(session, member):
    return list(session.scalars(select(InboxMessage).where(
        InboxMessage.member_id == member.id, InboxMessage.kind == "challenge_completed")))


# -- metrics ---------------------------------------------------------------------------------


def test_purchase_count_completes_on_the_goal_and_rewards_points_and_a_message_once(session, make_member, now):
    member = make_member(now=now)
    challenge = running(session, now, goal=3)
    challenges.join_challenge(session, challenge_id=challenge.id, member_id=member.id, now=now)
    session.commit()
    for n in range(2):
        buy(session, member.id, now + n * DAY)
    assert entry_of(session, challenge, member).progress == 2
    assert entry_of(session, challenge, member).completed_at is None
    buy(session, member.id, now + 2 * DAY)
    buy(session, member.id, now + 3 * DAY)  # beyond the goal: nothing more

    entry = entry_of(session, challenge, member)
    assert entry.completed_at == now + 2 * DAY and entry.progress == 3
    assert rewards_posted(session, challenge, member) == [500]
    [message] = completed_messages(session, member)
    assert message.params["name_en"] == "Five purchases" and message.params["points"] == 500
    assert ledger.find_mismatches(session) == []


def test_spend_counts_money_net_of_refunds(session, make_member, now):
    member = make_member(now=now)
    challenge = running(session, now, metric="spend", goal=1_000_000)
    challenges.join_challenge(session, challenge_id=challenge.id, member_id=member.id, now=now)
    session.commit()
    first = buy(session, member.id, now, amount=600_000)
    refund_purchase(session, purchase_id=first.id, amount=200_000, now=now + DAY)
    session.commit()
    buy(session, member.id, now + DAY, amount=500_000)
    assert entry_of(session, challenge, member).progress == 900_000  # 600k - 200k + 500k
    assert entry_of(session, challenge, member).completed_at is None
    buy(session, member.id, now + 2 * DAY, amount=100_000)
    assert entry_of(session, challenge, member).completed_at is not None


def test_categories_count_distinct_listed_categories_of_purchases_kept(session, make_member, now):
    member = make_member(now=now)
    challenge = running(session, now, metric="categories", goal=3,
                        categories=("Coffee", " tea ", "Cake", "Books"))
    assert challenge.categories == ["books", "cake", "coffee", "tea"]  # normalised once
    challenges.join_challenge(session, challenge_id=challenge.id, member_id=member.id, now=now)
    session.commit()
    buy(session, member.id, now, items=[ItemLine("c1", "COFFEE", 1, 50_000), ItemLine("c2", "coffee", 1, 50_000)])
    buy(session, member.id, now, items=[ItemLine("x", "Toys", 1, 100_000)])  # not listed
    refunded = buy(session, member.id, now, items=[ItemLine("t", "Tea", 1, 100_000)])
    assert entry_of(session, challenge, member).progress == 2
    refund_purchase(session, purchase_id=refunded.id, now=now + DAY)  # in full: tea no longer counts
    session.commit()
    assert entry_of(session, challenge, member).progress == 1
    buy(session, member.id, now + DAY, items=[ItemLine("k", "cake", 1, 60_000), ItemLine("b", "Books", 1, 40_000)])
    assert entry_of(session, challenge, member).completed_at is not None


def test_only_purchases_between_joining_or_the_start_and_the_end_count(session, make_member, now):
    member = make_member(now=now)
    challenge = running(session, now, goal=10, starts_at=now + DAY, ends_at=now + 5 * DAY)
    buy(session, member.id, now + 2 * DAY - timedelta(hours=1))  # before joining
    challenges.join_challenge(session, challenge_id=challenge.id, member_id=member.id, now=now + 2 * DAY)
    session.commit()
    buy(session, member.id, now + 3 * DAY)
    buy(session, member.id, now + 5 * DAY)  # the end is exclusive
    assert entry_of(session, challenge, member).progress == 1

    early = make_member(now=now)
    challenges.join_challenge(session, challenge_id=challenge.id, member_id=early.id, now=now)
    session.commit()
    buy(session, early.id, now + timedelta(hours=1))  # joined, but before the start
    buy(session, early.id, now + DAY)  # the start is inclusive
    assert entry_of(session, challenge, early).progress == 1


# -- joining and eligibility ---------------------------------------------------------------------


def test_joining_twice_keeps_one_entry(session, make_member, now):
    member = make_member(now=now)
    challenge = running(session, now)
    first, created = challenges.join_challenge(session, challenge_id=challenge.id, member_id=member.id, now=now)
    again, created_again = challenges.join_challenge(session, challenge_id=challenge.id, member_id=member.id,
                                                     now=now + DAY)
    session.commit()
    assert created and not created_again and first.id == again.id and again.joined_at == now
    assert session.scalar(select(func.count()).select_from(ChallengeEntry)) == 1


def test_only_active_challenges_before_their_end_can_be_joined(session, make_member, now):
    member = make_member(now=now)
    draft = challenges.create_challenge(session, spec(now), actor=audit.CLI, now=now)
    with pytest.raises(challenges.ChallengeNotOpen):
        challenges.join_challenge(session, challenge_id=draft.id, member_id=member.id, now=now)
    challenge = running(session, now)
    with pytest.raises(challenges.ChallengeNotOpen):
        challenges.join_challenge(session, challenge_id=challenge.id, member_id=member.id, now=now + 30 * DAY)
    challenges.end_challenge(session, challenge.id, actor=audit.CLI, now=now)
    with pytest.raises(challenges.ChallengeNotOpen):
        challenges.join_challenge(session, challenge_id=challenge.id, member_id=member.id, now=now)


def test_a_minimum_tier_admits_that_rank_and_above(session, make_member, now):
    program = Program("points_earned", "rolling", (
        Level(0, "bronze", "برنزی", "Bronze", 0), Level(1, "silver", "نقره‌ای", "Silver", 100),
        Level(2, "gold", "طلایی", "Gold", 500)), window_days=365)
    tiers.save_program(session, program, actor=audit.CLI, now=now)
    session.commit()
    silver_id = next(lv.id for lv in tiers.load_program(session).levels if lv.code == "silver")
    challenge = running(session, now, min_tier_id=silver_id)
    newcomer, gold = make_member(now=now), make_member(now=now)
    ledger.award_points(session, gold.id, 600, key="gold", now=now)
    tiers.on_qualifying_event(session, gold.id, now=now)
    session.commit()

    with pytest.raises(challenges.NotEligible):
        challenges.join_challenge(session, challenge_id=challenge.id, member_id=newcomer.id, now=now)
    assert challenges.join_challenge(session, challenge_id=challenge.id, member_id=gold.id, now=now)[1]
    session.commit()
    assert challenges.member_challenges(session, _member(session, newcomer), now) == []
    [shown] = challenges.member_challenges(session, _member(session, gold), now)
    assert shown.challenge.id == challenge.id and shown.joined


def _member(session, made):
    return session.get(Member, made.id)


def test_a_segment_admits_exactly_the_members_the_segment_service_counts_in(session, make_member, now):
    segment = Segment(name="Coffee lovers", conditions=[])
    session.add(segment)
    session.flush()
    challenge = running(session, now, segment_id=segment.id)
    member = make_member(now=now)
    inside = segments.contains(session, segment.id, member.id, now)
    if inside:
        assert challenges.join_challenge(session, challenge_id=challenge.id, member_id=member.id, now=now)[1]
    else:
        with pytest.raises(challenges.NotEligible):
            challenges.join_challenge(session, challenge_id=challenge.id, member_id=member.id, now=now)


# -- exactly once ------------------------------------------------------------------------------


@pytest.mark.real_commits
def test_two_purchases_completing_at_the_same_moment_reward_once(app, session, make_member, now):
    member = make_member(now=now)
    challenge = running(session, now, goal=3)
    challenges.join_challenge(session, challenge_id=challenge.id, member_id=member.id, now=now)
    session.commit()
    buy(session, member.id, now)
    session.remove()

    outcomes = run_together(app, 6, lambda i: record_purchase(
        db.session, member_id=member.id, amount=100_000, currency="IRR", occurred_at=now + DAY, now=now + DAY))

    assert all(not isinstance(o, Exception) for o in outcomes), outcomes
    entry = entry_of(session, challenge, member)
    # no lost update: the count saw the other purchases, and completion happened once
    assert entry.completed_at is not None and entry.progress >= 3
    assert rewards_posted(session, challenge, member) == [500]
    assert len(completed_messages(session, member)) == 1
    assert ledger.find_mismatches(session) == []


def test_replaying_completion_grants_nothing_more(session, make_member, now):
    member = make_member(now=now)
    challenge = running(session, now, goal=1)
    challenges.join_challenge(session, challenge_id=challenge.id, member_id=member.id, now=now)
    purchase = buy(session, member.id, now)
    challenges.on_purchase(session, purchase, now=now + DAY)  # replayed
    session.commit()
    assert rewards_posted(session, challenge, member) == [500]
    assert entry_of(session, challenge, member).completed_at == now


# -- refunds -------------------------------------------------------------------------------------


def test_a_refund_before_completion_lowers_progress(session, make_member, now):
    member = make_member(now=now)
    challenge = running(session, now, goal=3)
    challenges.join_challenge(session, challenge_id=challenge.id, member_id=member.id, now=now)
    first = buy(session, member.id, now)
    buy(session, member.id, now)
    refund_purchase(session, purchase_id=first.id, now=now + DAY)
    session.commit()
    assert entry_of(session, challenge, member).progress == 1
    buy(session, member.id, now + DAY)
    buy(session, member.id, now + DAY)
    assert entry_of(session, challenge, member).completed_at is not None


def test_a_refund_after_completion_claws_nothing_back(session, make_member, now):
    member = make_member(now=now)
    challenge = running(session, now, goal=2)
    challenges.join_challenge(session, challenge_id=challenge.id, member_id=member.id, now=now)
    first = buy(session, member.id, now)
    buy(session, member.id, now)
    completed = entry_of(session, challenge, member).completed_at
    refund_purchase(session, purchase_id=first.id, now=now + DAY)
    session.commit()
    entry = entry_of(session, challenge, member)
    assert entry.completed_at == completed and entry.progress == 2
    assert rewards_posted(session, challenge, member) == [500]
    assert session.scalar(select(func.count()).select_from(LedgerEntry).where(
        LedgerEntry.source_type == "challenge")) == 1


# -- the perk --------------------------------------------------------------------------------------


def test_the_perk_runs_from_the_start_to_the_end_for_joined_members_only(session, make_member, now):
    member, other = make_member(now=now), make_member(now=now)
    challenge = running(session, now, goal=50, perk_multiplier_bp=15_000, reward_points=None,
                        starts_at=now + DAY, ends_at=now + 10 * DAY)
    challenges.join_challenge(session, challenge_id=challenge.id, member_id=member.id, now=now)
    session.commit()
    assert challenges.earn_perks(session, member.id, now) == []  # not started
    assert challenges.earn_perks(session, member.id, now + 2 * DAY) == [
        challenges.Perk(15_000, "Five purchases", challenge.id)]
    assert challenges.earn_perks(session, other.id, now + 2 * DAY) == []
    # fell short: the perk simply ends; nothing is taken back
    assert challenges.earn_perks(session, member.id, now + 10 * DAY) == []
    challenges.end_challenge(session, challenge.id, actor=audit.CLI, now=now + 3 * DAY)
    assert challenges.earn_perks(session, member.id, now + 4 * DAY) == []


# -- a catalog reward ---------------------------------------------------------------------------------


def test_completion_grants_the_catalog_reward_and_out_of_stock_still_completes(session, make_member, now):
    member, late = make_member(now=now), make_member(now=now)
    reward = factories.reward(session, now, kind="free_product", name_fa="قهوه", name_en="A coffee",
                             product_sku="SKU-COFFEE", cost_points=0, stock=1)
    challenge = running(session, now, goal=1, reward_points=None, reward_id=reward.id)
    for who in (member, late):
        challenges.join_challenge(session, challenge_id=challenge.id, member_id=who.id, now=now)
    session.commit()
    buy(session, member.id, now)
    entry = entry_of(session, challenge, member)
    assert entry.coupon_id is not None
    assert session.get(Coupon, entry.coupon_id).member_id == member.id

    buy(session, late.id, now)  # the stock is gone: completed all the same, the purchase kept
    entry = entry_of(session, challenge, late)
    assert entry.completed_at is not None and entry.coupon_id is None
    assert challenges.challenge_stats(session, [challenge.id])[challenge.id] == challenges.ChallengeStats(2, 2, 1)
    assert completed_messages(session, late)[0].params["reward"] is False


# -- staff ----------------------------------------------------------------------------------------------


def test_invalid_specs_are_refused_with_every_problem(session, now):
    with pytest.raises(challenges.ChallengeInvalid) as refused:
        challenges.create_challenge(session, spec(now, goal=0, ends_at=now - 2 * DAY, reward_points=None,
                                                  categories=("tea",)), actor=audit.CLI, now=now)
    assert set(refused.value.problems) == {"goal", "ends_at", "deal", "categories"}
    with pytest.raises(challenges.ChallengeInvalid) as refused:
        challenges.create_challenge(session, spec(now, metric="categories", goal=3, categories=("a", "b")),
                                    actor=audit.CLI, now=now)
    assert set(refused.value.problems) == {"goal"}
    with pytest.raises(challenges.ChallengeInvalid) as refused:
        challenges.create_challenge(session, spec(now, perk_multiplier_bp=10_000), actor=audit.CLI, now=now)
    assert set(refused.value.problems) == {"perk_multiplier_bp"}


def test_with_entries_the_goal_and_deal_are_locked_but_texts_may_change(session, make_member, now):
    challenge = running(session, now)
    challenges.update_challenge(session, challenge.id, spec(now, goal=6), actor=audit.CLI, now=now)
    member = make_member(now=now)
    challenges.join_challenge(session, challenge_id=challenge.id, member_id=member.id, now=now)
    session.commit()
    with pytest.raises(challenges.ChallengeLocked):
        challenges.update_challenge(session, challenge.id, spec(now, goal=4), actor=audit.CLI, now=now)
    session.rollback()
    challenges.update_challenge(session, challenge.id, spec(now, goal=6, name_en="Six purchases"),
                                actor=audit.CLI, now=now)
    session.commit()
    actions = list(session.scalars(select(AuditLog.action).where(AuditLog.object_type == "challenge")
                                   .order_by(AuditLog.id)))
    assert actions == ["challenge.create", "challenge.activate", "challenge.update", "challenge.update"]
    last = session.scalar(select(AuditLog).order_by(AuditLog.id.desc()).limit(1))
    assert last.before == {"name_en": "Five purchases"} and last.after == {"name_en": "Six purchases"}


def test_status_moves_draft_active_ended_only(session, now):
    challenge = challenges.create_challenge(session, spec(now), actor=audit.CLI, now=now)
    with pytest.raises(challenges.ChallengeWrongStatus):
        challenges.activate_challenge(session, challenge.id, actor=audit.CLI, now=now + 31 * DAY)  # over
    challenges.activate_challenge(session, challenge.id, actor=audit.CLI, now=now)
    with pytest.raises(challenges.ChallengeWrongStatus):
        challenges.activate_challenge(session, challenge.id, actor=audit.CLI, now=now)
    challenges.end_challenge(session, challenge.id, actor=audit.CLI, now=now)
    with pytest.raises(challenges.ChallengeWrongStatus):
        challenges.update_challenge(session, challenge.id, spec(now, name_en="x"), actor=audit.CLI, now=now)
