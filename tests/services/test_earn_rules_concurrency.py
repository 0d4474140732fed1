"""Purchases at the same moment against one rule's budget and one member's cap:
each thread has its own session (as web workers do); totals must be exact."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.helpers.threads import run_together
from webapp.extensions import db
from webapp.models import EarnRule, RuleAward
from webapp.services import ledger
from webapp.services.ledger import purchases
from webapp.services.members import audit
from webapp.services.offers import earn_rules
from webapp.services.offers.rule_engine import Rule

pytestmark = pytest.mark.real_commits  # threads with their own sessions: real commits

THREADS = 24


def make_rule(session, now, **kw):
    row = earn_rules.create_rule(session, Rule(id=None, family_id=None, trigger="purchase",
                                               name_fa="قانون", name_en="Rule", points=100, **kw),
                                 actor=audit.CLI, now=now)
    earn_rules.activate_rule(session, row.id, actor=audit.CLI, now=now)
    session.commit()
    return row.id


def buy(member_id, now):
    return purchases.record_purchase(db.session, member_id=member_id, amount=10_000, currency="IRR",
                                     occurred_at=now, now=now)[0].points_earned


def test_concurrent_purchases_never_pass_the_rule_budget(app, session, make_member, now):
    people = [make_member(now=now).id for _ in range(THREADS)]
    rule_id = make_rule(session, now, budget_points=1_050)
    session.remove()
    outcomes = run_together(app, THREADS, lambda i: buy(people[i], now))
    assert all(isinstance(o, int) for o in outcomes), outcomes
    with app.app_context():
        s = db.session
        assert s.scalar(select(func.sum(RuleAward.points))) == 1_050
        assert s.get(EarnRule, rule_id).points_awarded == 1_050
        assert sorted(o - 1 for o in outcomes)[-11:] == [50] + [100] * 10  # one got what was left
        assert ledger.find_mismatches(s) == []


def test_concurrent_purchases_of_one_member_never_pass_the_daily_cap(app, session, make_member, now):
    member = make_member(now=now).id
    make_rule(session, now, cap_points=550, cap_period="day")
    session.remove()
    outcomes = run_together(app, THREADS, lambda i: buy(member, now + timedelta(seconds=i)))
    assert all(isinstance(o, int) for o in outcomes), outcomes
    with app.app_context():
        s = db.session
        assert s.scalar(select(func.sum(RuleAward.points))) == 550
        assert ledger.balance_of(s, member, "points") == THREADS * 1 + 550
        assert ledger.find_mismatches(s) == []
