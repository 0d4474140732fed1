"""Saving and loading the tier program, previewing a change, and proof that the
nightly evaluation is set-based (its statement count does not grow with members)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from webapp.models import AuditLog, Member, Tier, TierHistory, TierProgram
from webapp.services import config_cache, ledger, tiers
from webapp.services.members import audit
from webapp.services.tiers.rules import Level, Program


def save(session, program, now):
    tiers.save_program(session, program, actor=audit.CLI, now=now)
    session.commit()
    return tiers.load_program(session)


def test_the_default_program_round_trips_through_the_database(session, now):
    program = save(session, tiers.default_program(), now)
    assert [lv.code for lv in program.levels] == ["bronze", "silver", "gold", "platinum"]
    assert [lv.threshold for lv in program.levels] == [0, 1_000, 4_000, 10_000]
    assert program.levels[2].perks["free_shipping"] is True
    assert program.levels[3].benefits[0]["fa"].startswith("۵۰٪")
    assert all(lv.id for lv in program.levels)
    bare = [replace(lv, id=None) for lv in program.levels]
    assert bare == list(tiers.default_program().levels)
    assert (program.metric, program.window_kind, program.window_days) == ("points_earned", "rolling", 365)


def test_no_program_until_one_is_saved(session):
    assert tiers.load_program(session) is None


def test_saving_keeps_the_ids_of_kept_ranks_bumps_the_version_and_is_audited(session, now):
    first = save(session, tiers.default_program(), now)
    changed = replace(first, levels=(
        first.levels[0],
        replace(first.levels[1], code="gold", name_en="Gold", threshold=2_000),
        replace(first.levels[2], code="silver", name_en="Silver", threshold=3_000),  # codes swapped
        first.levels[3], Level(4, "diamond", "الماس", "Diamond", 50_000, 20_000),
    ), grace_days=10)
    second = save(session, changed, now + timedelta(hours=1))
    assert [lv.id for lv in second.levels[:4]] == [lv.id for lv in first.levels]
    assert [lv.code for lv in second.levels] == ["bronze", "gold", "silver", "platinum", "diamond"]
    assert second.grace_days == 10
    assert session.scalar(select(TierProgram.version)) == 2
    logs = session.scalars(select(AuditLog).where(AuditLog.action == "tiers.program")
                           .order_by(AuditLog.id)).all()
    assert logs[0].before is None and logs[1].before["grace_days"] == 30
    assert logs[1].after["levels"][4]["code"] == "diamond"


def test_members_on_a_removed_level_move_to_the_new_top_level(session, make_member, now):
    program = save(session, tiers.default_program(), now)
    member = make_member()
    platinum = program.levels[3].id
    session.execute(Member.__table__.update().where(Member.id == member.id).values(tier_id=platinum))
    session.commit()
    save(session, replace(program, levels=program.levels[:2]), now)
    stored = session.get(Member, member.id)
    session.refresh(stored)
    assert stored.tier_id == program.levels[1].id
    moved = session.scalar(select(TierHistory).where(TierHistory.member_id == member.id))
    assert moved.reason == "program_change" and moved.to_tier_id == program.levels[1].id
    assert session.get(Tier, platinum) is None


def test_an_invalid_program_is_refused_with_every_problem(session, now):
    broken = replace(tiers.default_program(), grace_days=-1, levels=(
        Level(0, "a", "ا", "A", 0), Level(1, "b", "ب", "B", 0)))
    with pytest.raises(tiers.TierProgramInvalid) as info:
        tiers.save_program(session, broken, actor=audit.CLI, now=now)
    assert info.value.code == "tier_program_invalid"
    assert info.value.problems["grace_days"] == "grace_days_range"
    assert info.value.problems["levels-1-threshold"] == "threshold_not_above"
    assert info.value.params["levels-1-threshold"] == {"threshold": 0}
    session.rollback()
    assert tiers.load_program(session) is None


def test_the_preview_counts_who_moves_up_and_down(session, make_member, now):
    program = save(session, Program("points_earned", "rolling", (
        Level(0, "bronze", "ب", "Bronze", 0), Level(1, "silver", "ن", "Silver", 100),
        Level(2, "gold", "ط", "Gold", 500)), window_days=90), now)
    members = {name: make_member() for name in ("low", "mid", "high", "new", "pinned")}
    for name, points in (("low", 50), ("mid", 150), ("high", 600), ("pinned", 600)):
        ledger.award_points(session, members[name].id, points, key=name, now=now - timedelta(days=1))
    session.commit()
    tiers.evaluate_all(session, now=now)
    tiers.set_override(session, member_id=members["pinned"].id, tier_code="silver",
                       until=now + timedelta(days=5), reason="test", actor=audit.CLI, now=now)
    session.commit()
    make_member()  # never evaluated: counts from the entry level

    proposal = replace(program, levels=(
        replace(program.levels[0]), replace(program.levels[1], threshold=40),
        replace(program.levels[2], threshold=700)))
    preview = tiers.preview_change(session, proposal, now)
    # low 50 → silver (up); high 600 → silver (down); mid stays; pinned keeps its override
    assert (preview.up, preview.down, preview.unchanged) == (1, 1, 4)
    assert preview.per_level == {"bronze": 2, "silver": 4, "gold": 0}
    with pytest.raises(tiers.TierProgramInvalid):
        tiers.preview_change(session, replace(proposal, levels=proposal.levels[1:]), now)


@pytest.mark.parametrize("metric", ["points_earned", "spend"])
def test_the_night_runs_the_same_statements_for_ten_members_or_sixty(session, make_member, now, metric, count_queries):
    save(session, replace(tiers.default_program(), metric=metric, grace_days=3), now)

    def night_for(n, when):
        for i in range(n):
            member = make_member()
            ledger.award_points(session, member.id, 200 * i + 1, key=f"{when}:{i}",
                                now=when - timedelta(days=i))
        session.commit()
        config_cache.clear()  # both nights read the program from the database
        with count_queries() as statements:
            tiers.evaluate_all(session, now=when)
        session.commit()
        return len(statements)

    assert night_for(10, now) == night_for(50, now + timedelta(days=1))
