"""The club's configuration is cached per process and exact: a change made by any
session (or any process) is seen by the next transaction, never a stale copy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from dataclasses import replace

import pytest
from sqlalchemy import select, update

from webapp.models import ClubConfig, Reward
from webapp.services import config_cache, tiers
from webapp.services.members import audit
from webapp.services.settings import EarnSettings, load_earn_settings, save_earn_settings


def token(session):
    return session.scalar(select(ClubConfig.token))


def test_a_cached_value_is_served_without_reading_it_again(session, count_queries):
    session.commit()
    first = load_earn_settings(session)
    session.commit()
    with count_queries() as statements:
        again = load_earn_settings(session)
    assert again is first
    assert len(statements) == 1 and "club_config" in statements[0]  # the version, nothing else


def test_a_saved_setting_is_read_at_once_by_the_next_transaction(session, now):
    load_earn_settings(session)
    session.commit()
    save_earn_settings(session, EarnSettings(earn_points=7), actor=audit.CLI, now=now)
    assert load_earn_settings(session).earn_points == 7  # the changing transaction reads the database
    session.commit()
    assert load_earn_settings(session).earn_points == 7


def test_every_change_to_a_watched_table_makes_a_new_version(session, now):
    before = token(session)
    tiers.save_program(session, tiers.default_program(), actor=audit.CLI, now=now)
    session.commit()
    assert token(session) != before


def test_a_bulk_update_of_a_watched_table_makes_a_new_version(session, make_reward):
    reward_id = make_reward()
    before = token(session)
    session.execute(update(Reward).where(Reward.id == reward_id).values(cost_points=1))
    session.commit()
    assert token(session) != before


def test_counters_that_member_activity_moves_keep_the_version(session, make_reward):
    reward_id = make_reward()
    before = token(session)
    session.execute(update(Reward).where(Reward.id == reward_id).values(issued_count=Reward.issued_count + 1))
    reward = session.get(Reward, reward_id)
    reward.issued_count += 1
    session.commit()
    assert token(session) == before


def test_a_rolled_back_change_leaves_no_version_a_later_change_could_reuse(session, now):
    before = token(session)
    save_earn_settings(session, EarnSettings(earn_points=3), actor=audit.CLI, now=now)
    rolled_back = token(session)
    session.rollback()
    save_earn_settings(session, EarnSettings(earn_points=4), actor=audit.CLI, now=now)
    assert len({before, rolled_back, token(session)}) == 3


SECOND_PROCESS = textwrap.dedent("""
    import json, sys
    from sqlalchemy import event
    from webapp import create_app
    from webapp.extensions import db
    from webapp.services import tiers

    app = create_app({"DATABASE_URL": sys.argv[1], "REDIS_URL": sys.argv[2]})
    statements = []
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda *a: a[2].startswith("BEGIN") or statements.append(a[2]))
    for _line in sys.stdin:  # one read per line, each in a transaction of its own
        with app.app_context():
            statements.clear()
            program = tiers.load_program(db.session)
            names = [lv.name_en for lv in program.levels] if program else []
            print(json.dumps({"names": names, "statements": len(statements)}), flush=True)
            db.session.remove()
""")


@pytest.mark.real_commits
def test_a_second_process_sees_an_edit_with_its_next_request(app, session, now, service_urls):
    tiers.save_program(session, tiers.default_program(), actor=audit.CLI, now=now)
    session.commit()
    database_url, redis_url = service_urls
    env = dict(os.environ, PYTHONPATH=os.getcwd())
    other = subprocess.Popen([sys.executable, "-c", SECOND_PROCESS, database_url, redis_url],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)

    def ask() -> dict:
        other.stdin.write("read\n")
        other.stdin.flush()
        return json.loads(other.stdout.readline())

    try:
        first, cached = ask(), ask()
        assert first["names"] == cached["names"] == [lv.name_en for lv in tiers.default_program().levels]
        assert cached["statements"] == 1 < first["statements"]  # served from its cache

        program = tiers.default_program()
        renamed = replace(program, levels=(replace(program.levels[0], name_en="Newcomer"), *program.levels[1:]))
        tiers.save_program(session, renamed, actor=audit.CLI, now=now)
        session.commit()

        assert ask()["names"][0] == "Newcomer"  # the very next read, no waiting
    finally:
        other.stdin.close()
        other.wait(10)


def test_the_cache_holds_snapshots_not_rows(session, now):
    tiers.save_program(session, tiers.default_program(), actor=audit.CLI, now=now)
    session.commit()
    program = tiers.load_program(session)
    session.commit()
    with pytest.raises(AttributeError):
        program.levels[0].name_en = "changed"  # frozen: no request can change another's copy
    config_cache.clear()
    assert tiers.load_program(session) == program
