"""Rows to start a test from, made through the services staff and members use:
members, staff, API keys, rewards, contests and raffles. Each takes the session
and adds (and flushes) without committing unless its name says so; the fixtures
in conftest (`make_member`, `make_staff`, `api_key`) wrap these for web tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

from webapp.services.members import audit

_SEQ = count(1)
SEED = bytes(range(32))  # the seed a raffle is published with
# a fresh request key per call (`id(object())` was reused by the allocator: a
# second buy replayed the first)
_REQUESTS = count(1)


# -- people ------------------------------------------------------------------------------------


def member(session, *, email=None, mobile=None, password=None, display_name="Test Member", locale=None,
           points=0, credit=0, now=None, expires_at=None):
    """A member (with `points` and `credit` posted to the ledger); flushed, not committed."""
    from webapp.services import ledger
    from webapp.services.members.accounts import Identifiers, create_member, normalise_identifiers

    n = next(_SEQ)
    email = email or (f"member{n}@example.com" if mobile is None else None)
    when = now or datetime.now(UTC)
    ids = normalise_identifiers(email, mobile) if (email or mobile) else Identifiers(None, None)
    made = create_member(session, ids=ids, password=password, display_name=display_name, locale=locale, now=when)
    if points:
        ledger.award_points(session, made.id, points, key=f"test:{made.id}:points", now=when,
                            expires_at=expires_at)
    if credit:
        ledger.grant_credit(session, made.id, credit, key=f"test:{made.id}:credit", now=when)
    session.flush()
    return made


def staff(session, role="owner", *, email=None, password="staff-password-1"):
    """A staff member; `plain_password` is kept on it for signing in."""
    from webapp.services.members.staff import create_staff

    email = email or f"{role}{next(_SEQ)}@staff.example.com"
    made = create_staff(session, email=email, password=password, role=role, actor=audit.CLI,
                        now=datetime.now(UTC))
    made.plain_password = password
    return made


def api_key(session, name="test till", *, revoked=False) -> str:
    """A bearer key as the owner creates one; returns the plain text."""
    from webapp.services.members.staff import create_api_key, revoke_api_key

    key, plain = create_api_key(session, name=name, actor=audit.CLI, now=datetime.now(UTC))
    if revoked:
        revoke_api_key(session, key.id, actor=audit.CLI, now=datetime.now(UTC))
    return plain


# -- rewards -----------------------------------------------------------------------------------


def reward(session, now=None, *, actor=audit.CLI, **fields):
    """An active catalog reward saved as staff save it: a 10,000 discount coupon for
    100 points unless `fields` say otherwise."""
    from webapp.services.offers import rewards

    data = {"kind": "coupon_amount", "name_fa": "تخفیف", "name_en": "Discount", "cost_points": 100,
            "value": 10_000, "status": "active", **fields}
    return rewards.save_reward(session, rewards.RewardData(**data), actor=actor, now=now or datetime.now(UTC))


# -- segments ---------------------------------------------------------------------------------


def segment(session, name="Rich", conditions=None):
    """A segment saved as staff save one: members with 100 points or more unless told."""
    from webapp.services.offers import segments

    if conditions is None:
        conditions = [{"field": "points", "op": "gte", "value": 100}]
    return segments.create_segment(session, name=name, conditions=conditions, actor=audit.CLI,
                                   now=datetime.now(UTC))


# -- contests ----------------------------------------------------------------------------------


def make_quiz(session, now, *, questions=3, entry_cost=0, participation=0, prizes=(), opens=None,
              closes=None, publish=True):
    from webapp.services.play import contests as service

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
    from webapp.services.play import contests as service

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


# -- raffles -----------------------------------------------------------------------------------


def prize(kind="points", quantity=1, amount=500, **kw):
    from webapp.services.play import raffles

    names = {"points": ("امتیاز", "Points"), "credit": ("اعتبار", "Credit"),
             "reward": ("جایزه", "Reward"), "physical": ("دوچرخه", "A bicycle")}[kind]
    return raffles.PrizeSpec(name_fa=names[0], name_en=names[1], quantity=quantity, kind=kind,
                             amount=amount if kind in ("points", "credit") else 0, **kw)


def make_raffle(session, now, *, publish=True, prizes=None, **kw):
    """A raffle (published with `SEED` unless `publish=False`), committed; returns its id."""
    from webapp.services.play import raffles

    data = {"name_fa": "قرعه‌کشی پاییز", "name_en": "Autumn raffle", "ticket_price": 10,
            "max_tickets_per_member": 20, "closes_at": now + timedelta(days=1),
            "draw_at": now + timedelta(days=1, hours=1), "prizes": tuple(prizes or (prize(),)),
            "alternates": 1, **kw}
    raffle = raffles.create_raffle(session, raffles.RaffleSpec(**data), actor=audit.CLI, now=now)
    if publish:
        raffles.publish_raffle(session, raffle.id, actor=audit.CLI, now=now, seed=SEED)
    session.commit()
    return raffle.id


def buy_tickets(session, raffle_id, member_id, quantity, now, key=None):
    """Tickets bought the way a member buys them, committed."""
    from webapp.services.play import raffles

    done = raffles.buy_tickets(session, raffle_id=raffle_id, member_id=member_id, quantity=quantity,
                               request_key=key or f"{member_id}:{quantity}:{now.isoformat()}:{next(_REQUESTS)}",
                               now=now)
    session.commit()
    return done


# -- earn rules --------------------------------------------------------------------------------


def add_birthday_rule(session, now, points=500):
    """An active birthday rule, as staff set one up."""
    from webapp.services.offers import earn_rules
    from webapp.services.offers.rule_engine import Rule

    row = earn_rules.create_rule(session, Rule(
        id=None, family_id=None, trigger="birthday", name_fa="تولدت مبارک", name_en="Happy birthday",
        points=points), actor=audit.CLI, now=now)
    earn_rules.activate_rule(session, row.id, actor=audit.CLI, now=now)
    return row


def set_birthday(session, member_id, day):
    from webapp.models import Member

    session.get(Member, member_id).birthday = day
