"""Building contests for the contest tests, through the staff service."""

from __future__ import annotations

from datetime import timedelta

from webapp.services.members import audit
from webapp.services.play import contests as service


def make_quiz(session, now, *, questions=3, entry_cost=0, participation=0, prizes=(), opens=None,
              closes=None, publish=True):
    spec = service.ContestSpec(
        kind="quiz", name_fa="مسابقه", name_en="The quiz", opens_at=opens or now - timedelta(hours=1),
        closes_at=closes or now + timedelta(hours=1), entry_cost=entry_cost, participation_points=participation,
        prizes=tuple(prizes))
    contest = service.create_contest(session, spec, actor=audit.CLI, now=now)
    for i in range(questions):
        service.save_question(session, contest.id, service.QuestionSpec(
            text_fa=f"پرسش {i}", text_en=f"Question {i}",
            options=(("الف", "Alpha"), ("ب", "Bravo"), ("پ", "Charlie")), correct_option=i % 3,
            time_limit_ms=20_000), actor=audit.CLI, now=now)
    if publish:
        service.publish_contest(session, contest.id, actor=audit.CLI, now=now)
    session.flush()
    return contest


def make_prediction(session, now, *, settings=None, prizes=(), participation=0, closes=None):
    spec = service.ContestSpec(
        kind="prediction", name_fa="پیش‌بینی", name_en="The match", opens_at=now - timedelta(hours=1),
        closes_at=closes or now + timedelta(hours=1), participation_points=participation, prizes=tuple(prizes),
        settings=settings or {"question": "number", "arity": 2, "minimum": 0, "maximum": 20,
                              "mode": "closest", "exact_points": 100, "closest_points": 30,
                              "question_fa": "نتیجه؟", "question_en": "Final score?"})
    contest = service.create_contest(session, spec, actor=audit.CLI, now=now)
    service.publish_contest(session, contest.id, actor=audit.CLI, now=now)
    session.flush()
    return contest


def correct_of(session, question_id):
    from webapp.models import ContestQuestion

    return session.get(ContestQuestion, question_id).correct_option
