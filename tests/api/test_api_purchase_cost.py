"""What one purchase through the API costs the database and Redis, caches warm
(issue 14): at most 8 statements with nothing but the base rate, at most 12
with a tier program, two matching earn rules and a running challenge the buyer
joined; one Redis round trip (the rate limit) unless a message must be woken."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from webapp.extensions import db
from webapp.jobs.messages import QUEUED_FLAG
from webapp.models import ChallengeEntry
from webapp.services import tiers
from webapp.services.members import audit
from webapp.services.messages.templates import set_channels
from webapp.services.offers import challenges, earn_rules
from webapp.services.offers.challenges import ChallengeSpec
from webapp.services.offers.rule_engine import Rule
from webapp.services.tiers.rules import Level, Program

DAY = timedelta(days=1)
BASE_RATE_ONLY = 8
EVERYTHING = 12


def second_purchase(api, purchase_for, member_id, count):
    """The first purchase warms the caches; the second is the one measured."""
    assert api.post("/transactions", purchase_for(member_id, external_ref="warm")).status_code == 201
    with count() as counted:
        answer = api.post("/transactions", purchase_for(member_id, external_ref="measured"))
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json(), counted


def statements_of(statements) -> str:
    return "\n".join(" ".join(s.split())[:160] for s in statements)


def test_a_base_rate_purchase_takes_at_most_eight_statements(api, make_member, purchase_for, count_queries):
    member = make_member()
    answer, statements = second_purchase(api, purchase_for, member.id, count_queries)
    assert len(statements) <= BASE_RATE_ONLY, statements_of(statements)
    # the answer is built from what was written, and it is right
    assert (answer["points_earned"], answer["points_balance"], answer["credit_balance"]) == (100, 200, 0)
    assert answer["external_ref"] == "measured" and answer["items"] == [] and answer["refunds"] == []


def test_a_purchase_with_tiers_two_rules_and_a_challenge_takes_at_most_twelve_statements(
        app, api, make_member, purchase_for, count_queries):
    now = datetime.now(UTC)
    member = make_member()
    with app.app_context():
        session = db.session
        tiers.save_program(session, Program("points_earned", "rolling", (
            Level(0, "bronze", "برنزی", "Bronze", 0, 10_000), Level(1, "silver", "نقره‌ای", "Silver", 10_000, 15_000)),
            window_days=365), actor=audit.CLI, now=now - DAY)
        for points in (10, 20):
            rule = earn_rules.create_rule(session, Rule(
                id=None, family_id=None, trigger="purchase", name_fa="قانون", name_en=f"Plus {points}",
                effect="fixed", points=points, budget_points=1_000_000), actor=audit.CLI, now=now - DAY)
            earn_rules.activate_rule(session, rule.id, actor=audit.CLI, now=now - DAY)
        challenge = challenges.create_challenge(session, ChallengeSpec(
            name_fa="چالش", name_en="Ten purchases", metric="purchase_count", goal=10,
            starts_at=now - DAY, ends_at=now + 30 * DAY, reward_points=500), actor=audit.CLI, now=now - DAY)
        challenges.activate_challenge(session, challenge.id, actor=audit.CLI, now=now - DAY)
        challenges.join_challenge(session, challenge_id=challenge.id, member_id=member.id, now=now - DAY)
        session.commit()

    answer, statements = second_purchase(api, purchase_for, member.id, count_queries)
    assert len(statements) <= EVERYTHING, statements_of(statements)
    assert answer["points_earned"] == 100 + 10 + 20
    assert answer["points_balance"] == 2 * 130
    with app.app_context():
        progress = db.session.scalar(select(ChallengeEntry.progress).where(
            ChallengeEntry.challenge_id == challenge.id, ChallengeEntry.member_id == member.id))
        assert progress == 2


def test_a_purchase_that_notifies_nobody_makes_one_redis_round_trip(
        app, api, make_member, purchase_for, count_redis, now):
    with app.app_context():
        set_channels(db.session, "purchase_receipt", (), actor=audit.CLI, now=now)
        db.session.commit()
    member = make_member()
    _answer, sent = second_purchase(api, purchase_for, member.id, count_redis)
    assert len(sent) == 1  # the rate limit's hit, its headers from the same answer


def test_an_emailed_receipt_wakes_the_outbox_worker_in_one_more_round_trip(
        app, api, make_member, purchase_for, count_redis):
    member = make_member()
    _answer, sent = second_purchase(api, purchase_for, member.id, count_redis)
    assert len(sent) == 2
    assert app.extensions["vafa_redis"].exists(QUEUED_FLAG)
