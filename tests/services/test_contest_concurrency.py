"""Concurrent quiz traffic, each thread with its own session and connection as
web workers have (CI runs this on PostgreSQL): the same answer posted at once
scores once; concurrent starts make one attempt and charge the fee once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.factories import make_quiz
from tests.helpers.threads import run_together
from webapp.extensions import db
from webapp.models import ContestAnswer, ContestEntry, LedgerEntry
from webapp.services import ledger
from webapp.services.play import contest_play

pytestmark = pytest.mark.real_commits  # threads with their own sessions: real commits

THREADS = 12


def test_concurrent_starts_make_one_attempt_and_charge_the_fee_once(app, session, make_member, now):
    member = make_member(points=1_000, now=now)
    contest_id = make_quiz(session, now, entry_cost=100).id
    session.commit()
    session.remove()

    outcomes = run_together(app, THREADS, lambda i: contest_play.start_attempt(
        db.session, contest_id=contest_id, member_id=member.id, now=now).id)

    assert len(set(outcomes)) == 1 and all(isinstance(o, int) for o in outcomes), outcomes
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ContestEntry)) == 1
        assert ledger.balance_of(db.session, member.id, "points") == 900
        assert db.session.scalar(select(func.count()).select_from(LedgerEntry)
                                 .where(LedgerEntry.amount < 0)) == 1


def test_the_same_answer_posted_concurrently_scores_once(app, session, make_member, now):
    member = make_member(now=now)
    contest = make_quiz(session, now, questions=2)
    contest_play.start_attempt(session, contest_id=contest.id, member_id=member.id, now=now)
    served = contest_play.current_question(session, contest_id=contest.id, member_id=member.id, now=now)
    contest_id, question_id, right = contest.id, served.question.id, served.question.correct_option
    session.commit()
    session.remove()

    outcomes = run_together(app, THREADS, lambda i: contest_play.answer_question(
        db.session, contest_id=contest_id, member_id=member.id, question_id=question_id, option=right,
        now=now + timedelta(seconds=1)).outcome.value)

    assert sorted(outcomes) == ["correct"] + ["duplicate"] * (THREADS - 1), outcomes
    with app.app_context():
        answers = db.session.scalars(select(ContestAnswer).where(ContestAnswer.question_id == question_id)).all()
        assert len(answers) == 1 and answers[0].points == 100 + 100 * 19_000 // 20_000
