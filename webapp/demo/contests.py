"""The demo club's contests: an open quiz of five questions and an open match
prediction, made through the same services staff use."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webapp.models import Contest
from webapp.services.members import audit
from webapp.services.play import contests as service

QUESTIONS = (
    ("پایتخت ایران کدام شهر است؟", "What is the capital of Iran?",
     (("تهران", "Tehran"), ("اصفهان", "Isfahan"), ("شیراز", "Shiraz")), 0),
    ("کدام نوشیدنی از دانهٔ قهوه درست می‌شود؟", "Which drink is made from coffee beans?",
     (("چای", "Tea"), ("اسپرسو", "Espresso"), ("دوغ", "Doogh"), ("شربت", "Sharbat")), 1),
    ("نوروز در چه فصلی است؟", "In which season is Nowruz?",
     (("بهار", "Spring"), ("تابستان", "Summer"), ("پاییز", "Autumn"), ("زمستان", "Winter")), 0),
    ("یک هفته چند روز است؟", "How many days are in a week?",
     (("۵", "5"), ("۶", "6"), ("۷", "7")), 2),
    ("کدام یک میوه است؟", "Which one is a fruit?",
     (("هویج", "Carrot"), ("انار", "Pomegranate"), ("سیب‌زمینی", "Potato")), 1),
)


def load_demo_contests(session: Session, *, now: datetime) -> None:
    """Once: does nothing when the club already has contests."""
    if session.scalar(select(func.count()).select_from(Contest)):
        return
    actor = audit.CLI
    quiz = service.create_contest(session, service.ContestSpec(
        kind="quiz", name_fa="مسابقهٔ هفته", name_en="Quiz of the week",
        description_fa="پنج پرسش ساده؛ هرچه سریع‌تر، امتیاز بیشتر.",
        description_en="Five easy questions; the faster you answer, the more points.",
        opens_at=now - timedelta(hours=1), closes_at=now + timedelta(days=3), participation_points=20,
        prizes=(service.Prize(1, 1, "points", 5_000), service.Prize(2, 3, "points", 1_000),
                service.Prize(4, 10, "points", 500))), actor=actor, now=now)
    for text_fa, text_en, options, correct in QUESTIONS:
        service.save_question(session, quiz.id, service.QuestionSpec(text_fa, text_en, options, correct, 20_000),
                              actor=actor, now=now)
    service.publish_contest(session, quiz.id, actor=actor, now=now)
    match = service.create_contest(session, service.ContestSpec(
        kind="prediction", name_fa="پیش‌بینی بازی جمعه", name_en="Friday's match prediction",
        opens_at=now - timedelta(hours=1), closes_at=now + timedelta(days=2), participation_points=10,
        prizes=(service.Prize(1, 3, "points", 2_000),),
        settings={"question": "number", "arity": 2, "minimum": 0, "maximum": 20, "mode": "closest",
                  "exact_points": 100, "closest_points": 30, "question_fa": "نتیجهٔ بازی چند چند می‌شود؟",
                  "question_en": "What will the final score be?",
                  "labels": [{"fa": "میزبان", "en": "Home"}, {"fa": "میهمان", "en": "Away"}]}),
        actor=actor, now=now)
    service.publish_contest(session, match.id, actor=actor, now=now)
