"""`make run` upgrades an existing database without losing data: upgrade a club
from the first revision to head and check its rows and the ledger survive."""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from webapp.db import make_engine, normalise_url
from webapp.migrate import alembic_config, upgrade

FIRST_REVISION = "f57c28838d19"


@pytest.fixture
def empty_database_url(tmp_path):
    """A database of the backend under test that nobody else uses."""
    url = normalise_url(os.environ.get("DATABASE_URL", ""))
    if not url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'old-club.db'}"
        return
    name = f"vafa_migration_{uuid.uuid4().hex[:8]}"
    admin = make_engine(url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_upgrading_an_old_club_keeps_members_purchases_and_balances(empty_database_url):
    from alembic import command

    command.upgrade(alembic_config(empty_database_url), FIRST_REVISION)
    engine = make_engine(empty_database_url)
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO member (id, email, display_name, referral_code, status, consent_email,"
            " consent_sms, session_token, points_balance, credit_balance, created_at)"
            " VALUES (1, 'old@example.com', 'Old', 'OLDCODE1', 'active', false, false, 'tok', 120, 0,"
            " '2025-01-01 00:00:00')"
        ))
        conn.execute(text(
            "INSERT INTO ledger_entry (id, member_id, currency, amount, kind, idempotency_key,"
            " created_by, created_at) VALUES (1, 1, 'points', 120, 'earn', 'old:1', 'system',"
            " '2025-01-01 00:00:00')"
        ))
        conn.execute(text(
            "INSERT INTO point_lot (id, member_id, entry_id, amount, remaining, earned_at)"
            " VALUES (1, 1, 1, 120, 120, '2025-01-01 00:00:00')"
        ))
        conn.execute(text(
            "INSERT INTO purchase (id, member_id, amount, currency, occurred_at, points_earned,"
            " refunded_amount, points_reversed, created_at) VALUES (1, 1, 1200000, 'IRR',"
            " '2025-01-01 00:00:00', 120, 0, 0, '2025-01-01 00:00:00')"
        ))
    engine.dispose()

    upgrade(empty_database_url)  # what `vafa db upgrade` and `make run` do
    upgrade(empty_database_url)  # and again: nothing left to do

    engine = make_engine(empty_database_url)
    with engine.connect() as conn:
        member = conn.execute(text(
            "SELECT email, points_balance, tier_metric, tier_id FROM member WHERE id = 1"
        )).one()
        purchase = conn.execute(text("SELECT amount, fee FROM purchase WHERE id = 1")).one()
        entries = conn.execute(text("SELECT sum(amount) FROM ledger_entry")).scalar_one()
    engine.dispose()
    assert tuple(member) == ("old@example.com", 120, 0, None)
    assert tuple(purchase) == (1200000, 0)
    assert entries == 120


def _three_members(conn) -> None:
    """Members 1–3, written with SQL as a club on an older schema has them."""
    for n in (1, 2, 3):
        conn.execute(text(
            "INSERT INTO member (id, email, display_name, referral_code, status, consent_email, consent_sms,"
            " consent_push, session_token, points_balance, credit_balance, tier_metric, created_at)"
            f" VALUES ({n}, 'm{n}@example.com', 'M', 'CODE000{n}', 'active', false, false, false, 'tok{n}',"
            " 0, 0, 0, '2025-01-01 00:00:00')"))


def test_raffle_counters_are_backfilled_from_the_entries(empty_database_url):
    from alembic import command

    command.upgrade(alembic_config(empty_database_url), "p1a0config")
    engine = make_engine(empty_database_url)
    with engine.begin() as conn:
        _three_members(conn)
        for raffle_id, status in ((1, "open"), (2, "draft")):
            conn.execute(text(
                "INSERT INTO raffle (id, name_fa, name_en, ticket_price, max_tickets_per_member, closes_at, draw_at,"
                " alternates, status, created_by, created_at, updated_at) VALUES"
                f" ({raffle_id}, 'ق', 'R', 10, 20, '2025-02-01 00:00:00', '2025-02-02 00:00:00', 0, '{status}',"
                " 'cli', '2025-01-01 00:00:00', '2025-01-01 00:00:00')"))
        for entry_id, member_id, tickets in ((1, 1, 3), (2, 2, 5), (3, 3, 0)):
            conn.execute(text(
                "INSERT INTO raffle_entry (id, raffle_id, member_id, code, tickets, bought, from_coupons,"
                f" from_perks, created_at) VALUES ({entry_id}, 1, {member_id}, 'c{entry_id}', {tickets},"
                f" {tickets}, 0, 0, '2025-01-01 00:00:00')"))
    engine.dispose()

    upgrade(empty_database_url)

    engine = make_engine(empty_database_url)
    with engine.connect() as conn:
        counters = conn.execute(text("SELECT id, entries_count, tickets_total FROM raffle ORDER BY id")).all()
    engine.dispose()
    assert [tuple(row) for row in counters] == [(1, 2, 8), (2, 0, 0)]


def test_the_invite_counters_are_backfilled_from_the_rows(empty_database_url):
    from alembic import command
    from sqlalchemy.orm import Session

    from webapp.services.referrals import tally

    command.upgrade(alembic_config(empty_database_url), "p1a0config")
    engine = make_engine(empty_database_url)
    with engine.begin() as conn:
        _three_members(conn)
        for n in (1, 2, 3):
            conn.execute(text(
                "INSERT INTO referral_open (id, link, referrer_id, visitor, created_at)"
                f" VALUES ({n}, 'm1', 1, 'v{n}', '2026-01-02 00:00:00')"))
        for n, friend, status in ((1, 2, "qualified"), (2, 3, "pending")):
            conn.execute(text(
                "INSERT INTO referral (id, friend_id, referrer_id, status, flags, terms, referrer_rewarded,"
                f" created_at) VALUES ({n}, {friend}, 1, '{status}', '[]', '{{}}', true,"
                " '2026-01-02 00:00:00')"))
        conn.execute(text(
            "INSERT INTO ledger_entry (id, member_id, currency, amount, kind, source_type, source_id,"
            " idempotency_key, created_by, created_at) VALUES (1, 1, 'points', 50, 'earn', 'referral', '1',"
            " 'referral:1:referrer', 'system', '2026-01-03 00:00:00')"))
    upgrade(empty_database_url)
    with Session(engine) as session:
        kept = tally.read(session, 1)
        assert (kept.opens, kept.signups, kept.pending, kept.qualified, kept.points_earned) == (3, 2, 1, 1, 50)
        assert tally.read(session, 2).signups == 0  # a friend, not a referrer: no row needed
        assert tally.mismatches(session) == []
    engine.dispose()
