"""Seed a realistic club for the page and purchase benches: the members and
ledger of bench/seed_members.py, then the configuration the member pages read,
made through the services staff use (bulk rows set-wise).

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/vafa_bench_10k \\
        python bench/seed_club.py --members 10000 --entries 500000

The configuration: the default tier program (4 tiers, members evaluated), two
active purchase earn rules beyond the base rate (both match every purchase of
1,000+), four rewards, an open challenge bench1 has joined, an open quiz and an
open prediction, an open raffle with entries from a fifth of the members
(set-wise) and a drawn one, referral settings saved (enabled), and opens of
bench1's invite link from a fifth of the members' worth of devices (through the
service, so any counter kept with the row stays right). Runs once per database.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime, timedelta

import seed_members
from sqlalchemy import select, text
from sqlalchemy.orm import Session

MARK = "Bench quiz"  # the contest that says the club is configured
PHONE = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36"


def seed(url: str, members: int, entries: int, quiet: bool = False) -> bool:
    """Members and ledger, then the configuration, each unless already there.
    Returns True if the configuration was written now."""
    from webapp.db import make_engine
    from webapp.models import Contest

    say = (lambda *a: None) if quiet else print
    seed_members.seed(url, members, entries, quiet=quiet)
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            if session.scalar(select(Contest.id).where(Contest.name_en == MARK)):
                return False
            started = time.perf_counter()
            configure(session, members, datetime.now(UTC), say)
            session.commit()
            session.execute(text("ANALYZE"))
            session.commit()
            say(f"club configured in {time.perf_counter() - started:.1f}s")
            return True
    finally:
        engine.dispose()


def configure(session: Session, members: int, now: datetime, say) -> None:
    from webapp.models import Member
    from webapp.services import tiers

    bench1 = session.scalar(select(Member.id).where(Member.email == seed_members.FIRST_EMAIL))
    tiers.save_program(session, tiers.default_program(), actor=_cli(), now=now - timedelta(days=400))
    tiers.evaluate_all(session, now=now)
    say("tier program saved, members evaluated")
    _earn_rules(session, now)
    _rewards(session, now)
    _challenge(session, bench1, now)
    _contests(session, now)
    _raffles(session, members // 5, now)
    _referrals(session, bench1, members // 5, now)
    say("rules, rewards, challenge, contests, raffles and referrals in place")


def _cli():
    from webapp.services.members import audit

    return audit.CLI


def _earn_rules(session: Session, now: datetime) -> None:
    from webapp.services.offers import earn_rules
    from webapp.services.offers.rule_engine import Conditions, Rule

    since = now - timedelta(days=30)
    for rule in (
        Rule(None, None, "purchase", "امتیاز اضافه", "Extra points", Conditions(min_amount=1_000),
             effect="per_amount", points=1, per_amount=100_000),
        Rule(None, None, "purchase", "هدیهٔ خرید", "Visit bonus", Conditions(min_amount=1_000),
             effect="fixed", points=5, cap_points=50, cap_period="day"),
    ):
        row = earn_rules.create_rule(session, rule, actor=_cli(), now=since)
        earn_rules.activate_rule(session, row.id, actor=_cli(), now=since)


def _rewards(session: Session, now: datetime) -> None:
    from webapp.services.offers import rewards

    since = now - timedelta(days=30)
    for data in (
        rewards.RewardData("free_product", "یک قهوهٔ رایگان", "A free coffee", 300, product_sku="SKU-COFFEE",
                           coupon_valid_days=30, status="active"),
        rewards.RewardData("coupon_percent", "۱۰٪ تخفیف", "10% off", 800, value=1_000, per_member_limit=2,
                           coupon_valid_days=60, status="active"),
        rewards.RewardData("credit", "۵۰٬۰۰۰ ریال اعتبار", "50,000 rials of credit", 500, value=50_000,
                           status="active"),
        rewards.RewardData("coupon_amount", "۵۰۰٬۰۰۰ ریال تخفیف", "500,000 rials off", 4_000, value=500_000,
                           stock=20, coupon_valid_days=30, status="active"),
    ):
        rewards.save_reward(session, data, actor=_cli(), now=since)


def _challenge(session: Session, member_id: int, now: datetime) -> None:
    from webapp.services.offers import challenges

    challenge = challenges.create_challenge(session, challenges.ChallengeSpec(
        name_fa="پنج خرید", name_en="Five visits", metric="purchase_count", goal=5,
        starts_at=now - timedelta(days=3), ends_at=now + timedelta(days=365),
        perk_multiplier_bp=15_000, reward_points=500), actor=_cli(), now=now)
    challenges.activate_challenge(session, challenge.id, actor=_cli(), now=now)
    challenges.join_challenge(session, challenge_id=challenge.id, member_id=member_id, now=now)


def _contests(session: Session, now: datetime) -> None:
    from webapp.services.play import contests as service

    closes = now + timedelta(days=365)
    quiz = service.create_contest(session, service.ContestSpec(
        kind="quiz", name_fa="مسابقهٔ بنچ", name_en=MARK, opens_at=now - timedelta(hours=1), closes_at=closes,
        participation_points=20, prizes=(service.Prize(1, 1, "points", 5_000),)), actor=_cli(), now=now)
    for i in range(5):
        service.save_question(session, quiz.id, service.QuestionSpec(
            f"پرسش {i}", f"Question {i}", (("الف", "Alpha"), ("ب", "Bravo"), ("پ", "Charlie")), i % 3, 20_000),
            actor=_cli(), now=now)
    service.publish_contest(session, quiz.id, actor=_cli(), now=now)
    match = service.create_contest(session, service.ContestSpec(
        kind="prediction", name_fa="پیش‌بینی", name_en="Bench match", opens_at=now - timedelta(hours=1),
        closes_at=closes, participation_points=10, prizes=(service.Prize(1, 3, "points", 2_000),),
        settings={"question": "number", "arity": 2, "minimum": 0, "maximum": 20, "mode": "closest",
                  "exact_points": 100, "closest_points": 30, "question_fa": "نتیجه؟",
                  "question_en": "Final score?"}), actor=_cli(), now=now)
    service.publish_contest(session, match.id, actor=_cli(), now=now)


def _raffles(session: Session, entrants: int, now: datetime) -> None:
    """An open raffle with `entrants` entries (set-wise), and one closed and drawn."""
    from webapp.services.play import raffles

    def spec(name: str, closes: datetime) -> raffles.RaffleSpec:
        return raffles.RaffleSpec(
            name_fa=name, name_en=name, ticket_price=50, max_tickets_per_member=20, alternates=2,
            closes_at=closes, draw_at=closes + timedelta(minutes=1),
            prizes=(raffles.PrizeSpec("۵٬۰۰۰ امتیاز", "5,000 points", 1, "points", 5_000),
                    raffles.PrizeSpec("سبد هدیه", "A gift basket", 2, "physical")))

    open_raffle = raffles.create_raffle(session, spec("Bench open raffle", now + timedelta(days=365)),
                                        actor=_cli(), now=now)
    raffles.publish_raffle(session, open_raffle.id, actor=_cli(), now=now)
    past = now - timedelta(days=10)
    drawn = raffles.create_raffle(session, spec("Bench drawn raffle", now - timedelta(days=1)),
                                  actor=_cli(), now=past)
    raffles.publish_raffle(session, drawn.id, actor=_cli(), now=past)
    _raffle_entries(session, open_raffle.id, entrants, now)
    _raffle_entries(session, drawn.id, 200, past)
    session.flush()
    for step in (raffles.freeze_entries, raffles.draw_winners, raffles.award_prizes):
        assert step(session, drawn.id, now), f"{step.__name__} did nothing"
        session.flush()


def _raffle_entries(session: Session, raffle_id: int, entrants: int, now: datetime) -> None:
    """The first `entrants` bench members in, 1 to 20 tickets each (no points
    spent: the ledger stays as seeded)."""
    session.execute(text("""
        INSERT INTO raffle_entry (raffle_id, member_id, code, tickets, bought, from_coupons, from_perks, created_at)
        SELECT :rid, m.id, substr(md5(m.id::text || ':' || :rid), 1, 12), 1 + m.id % 20, 1 + m.id % 20, 0, 0, :now
        FROM (SELECT id FROM member WHERE email LIKE 'bench%@example.com' ORDER BY id LIMIT :n) m
    """), {"rid": raffle_id, "n": entrants, "now": now})
    # the raffle keeps its entries and tickets on its row (vafa doctor checks them)
    session.execute(text("""
        UPDATE raffle SET entries_count = e.n, tickets_total = e.t
        FROM (SELECT count(*) AS n, sum(tickets) AS t FROM raffle_entry WHERE raffle_id = :rid) e
        WHERE raffle.id = :rid
    """), {"rid": raffle_id})


def _referrals(session: Session, member_id: int, opens: int, now: datetime) -> None:
    from webapp.models import Member
    from webapp.services import referrals
    from webapp.services.referrals import rules

    rules.save_settings(session, rules.ReferralSettings(enabled=True), actor=_cli(), now=now)
    link = referrals.resolve(session, session.get(Member, member_id).referral_code)
    for n in range(opens):
        referrals.record_open(session, link, visitor=f"bench-visitor-{n}", user_agent=PHONE,
                              now=now - timedelta(minutes=n))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--entries", type=int, default=500_000)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL") or seed_members.database_url()
    seed(url, args.members, args.entries)
    bad = seed_members.check(url)
    print(f"doctor: {bad} mismatch(es)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
