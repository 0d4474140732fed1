"""Contest services on a real database: quiz play timed by the server, one
attempt, one fee, replays that score nothing; predictions; finalising."""

from __future__ import annotations

from datetime import timedelta

import pytest

from games.leaderboard import Entry, rank_entries
from tests.factories import correct_of, make_prediction, make_quiz
from webapp.models import ContestEntry, LedgerEntry
from webapp.services import ledger
from webapp.services.errors import InsufficientPoints
from webapp.services.play import contest_play, contest_results, quiz
from webapp.services.play import contests as service


def play_all(session, contest, member_id, now, *, right=True, step_ms=2000):
    """Answer every question, `step_ms` after it was served; returns the last result."""
    contest_play.start_attempt(session, contest_id=contest.id, member_id=member_id, now=now)
    result = None
    while True:
        served = contest_play.current_question(session, contest_id=contest.id, member_id=member_id, now=now)
        if served is None:
            return result
        option = served.question.correct_option if right else (served.question.correct_option + 1) % 3
        now = now + timedelta(milliseconds=step_ms)
        result = contest_play.answer_question(session, contest_id=contest.id, member_id=member_id,
                                              question_id=served.question.id, option=option, now=now)


def test_answer_is_scored_with_the_time_measured_on_the_server(session, make_member, now):
    member = make_member()
    contest = make_quiz(session, now, questions=1)
    contest_play.start_attempt(session, contest_id=contest.id, member_id=member.id, now=now)
    served = contest_play.current_question(session, contest_id=contest.id, member_id=member.id, now=now)
    # a reload 5 s later serves the same question with the same clock
    again = contest_play.current_question(session, contest_id=contest.id, member_id=member.id,
                                          now=now + timedelta(seconds=5))
    assert again.served_at == served.served_at == now
    result = contest_play.answer_question(session, contest_id=contest.id, member_id=member.id,
                                          question_id=served.question.id,
                                          option=correct_of(session, served.question.id),
                                          now=now + timedelta(seconds=5))
    assert result.outcome.value == "correct"
    assert result.elapsed_ms == 5000
    assert result.points == 100 + 100 * 15_000 // 20_000
    assert result.finished is not None and result.finished.score == result.points


def test_a_replayed_answer_scores_nothing_more(session, make_member, now):
    member = make_member()
    contest = make_quiz(session, now, questions=2)
    contest_play.start_attempt(session, contest_id=contest.id, member_id=member.id, now=now)
    served = contest_play.current_question(session, contest_id=contest.id, member_id=member.id, now=now)
    first = contest_play.answer_question(session, contest_id=contest.id, member_id=member.id,
                                         question_id=served.question.id,
                                         option=served.question.correct_option, now=now + timedelta(seconds=1))
    replay = contest_play.answer_question(session, contest_id=contest.id, member_id=member.id,
                                          question_id=served.question.id,
                                          option=served.question.correct_option, now=now + timedelta(seconds=2))
    assert first.points > 0
    assert replay.outcome.value == "duplicate" and replay.points == 0
    nxt = contest_play.current_question(session, contest_id=contest.id, member_id=member.id, now=now)
    assert nxt.number == 2


def test_late_answers_score_nothing(session, make_member, now):
    member = make_member()
    contest = make_quiz(session, now, questions=1)
    contest_play.start_attempt(session, contest_id=contest.id, member_id=member.id, now=now)
    served = contest_play.current_question(session, contest_id=contest.id, member_id=member.id, now=now)
    result = contest_play.answer_question(session, contest_id=contest.id, member_id=member.id,
                                          question_id=served.question.id, option=served.question.correct_option,
                                          now=now + timedelta(seconds=20))
    assert result.outcome.value == "late" and result.points == 0


def test_one_attempt_and_the_entry_fee_once(session, make_member, now):
    member = make_member(points=500)
    contest = make_quiz(session, now, entry_cost=100)
    first = contest_play.start_attempt(session, contest_id=contest.id, member_id=member.id, now=now)
    again = contest_play.start_attempt(session, contest_id=contest.id, member_id=member.id, now=now)
    assert first.id == again.id
    assert ledger.balance_of(session, member.id, "points") == 400
    play_all(session, contest, member.id, now)
    with pytest.raises(contest_play.AlreadyPlayed):
        contest_play.start_attempt(session, contest_id=contest.id, member_id=member.id, now=now)
    assert ledger.balance_of(session, member.id, "points") == 400


def test_not_enough_points_for_the_entry_starts_nothing(session, make_member, now):
    member = make_member(points=50)
    contest = make_quiz(session, now, entry_cost=100)
    with pytest.raises(InsufficientPoints):
        with session.begin_nested():
            contest_play.start_attempt(session, contest_id=contest.id, member_id=member.id, now=now)
    assert contest_play.entry_of(session, contest.id, member.id) is None


def test_a_closed_contest_refuses_to_start(session, make_member, now):
    member = make_member()
    contest = make_quiz(session, now)
    with pytest.raises(contest_play.ContestNotOpen):
        contest_play.start_attempt(session, contest_id=contest.id, member_id=member.id,
                                   now=contest.closes_at)


def test_questions_are_fixed_once_someone_played(session, make_member, now):
    member = make_member()
    contest = make_quiz(session, now, questions=1)
    contest_play.start_attempt(session, contest_id=contest.id, member_id=member.id, now=now)
    with pytest.raises(service.ContestLocked):
        service.save_question(session, contest.id, service.QuestionSpec(
            "پ", "Q", (("a", "a"), ("b", "b")), 0, 10_000), actor=service.audit.CLI, now=now)


def test_finalise_ranks_like_the_engine_and_awards_once(session, make_member, now):
    members = [make_member(display_name=f"M{i}") for i in range(4)]
    contest = make_quiz(session, now, questions=2, participation=10, prizes=[
        service.Prize(1, 1, "points", 1000), service.Prize(2, 3, "credit", 500)])
    for i, member in enumerate(members):
        play_all(session, contest, member.id, now + timedelta(seconds=i), right=i != 3, step_ms=1000 + 1000 * (i % 2))
    later = contest.closes_at
    done = contest_results.finalise_contest(session, contest.id, now=later)
    assert done.entrants == 4
    rows = session.query(ContestEntry).filter_by(contest_id=contest.id).all()
    expected = rank_entries(Entry(r.member_id, r.score, r.elapsed_ms, r.tie_time) for r in rows)
    assert {s.entry.member_id: s.rank for s in expected} == {r.member_id: r.final_rank for r in rows}
    assert contest_results.finalise_contest(session, contest.id, now=later) is None
    keys = [k for (k,) in session.query(LedgerEntry.idempotency_key)
            .filter(LedgerEntry.idempotency_key.like(f"contest:{contest.id}:%"))]
    assert len([k for k in keys if ":played:" in k]) == 4
    assert len([k for k in keys if ":prize:" in k]) == 3
    assert ledger.find_mismatches(session) == []


def test_prediction_last_edit_counts_and_closest_scores(session, make_member, now):
    a, b, c = make_member(), make_member(), make_member()
    contest = make_prediction(session, now)
    contest_play.predict(session, contest_id=contest.id, member_id=a.id, value=(0, 0), now=now)
    contest_play.predict(session, contest_id=contest.id, member_id=a.id, value=(2, 1), now=now)
    contest_play.predict(session, contest_id=contest.id, member_id=b.id, value=(1, 1), now=now)
    contest_play.predict(session, contest_id=contest.id, member_id=c.id, value=(5, 0), now=now)
    with pytest.raises(contest_play.ContestNotOpen):
        contest_play.predict(session, contest_id=contest.id, member_id=a.id, value=(3, 3), now=contest.closes_at)
    with pytest.raises(contest_play.AnswerInvalid):
        contest_play.predict(session, contest_id=contest.id, member_id=a.id, value=(30, 0), now=now)
    service.enter_result(session, contest.id, (2, 1), actor=service.audit.CLI, now=contest.closes_at)
    contest_results.finalise_contest(session, contest.id, now=contest.closes_at)
    scores = {e.member_id: (e.score, e.final_rank) for e in session.query(ContestEntry)}
    assert scores == {a.id: (100, 1), b.id: (30, 2), c.id: (0, 3)}


def test_play_streak_counts_club_days_in_a_row(session, make_member, now):
    member = make_member()
    for day in range(3):
        contest = make_quiz(session, now + timedelta(days=day), questions=1)
        contest_play.start_attempt(session, contest_id=contest.id, member_id=member.id,
                                   now=now + timedelta(days=day))
    assert contest_play.play_streak(session, member.id, now + timedelta(days=2), "Asia/Tehran") == 3
    assert contest_play.play_streak(session, member.id, now + timedelta(days=4), "Asia/Tehran") == 0


def test_finishing_a_quiz_fires_the_contest_played_earn_rules_once(session, make_member, now):
    from webapp.services.offers import earn_rules
    from webapp.services.offers.rule_engine import Rule

    rule = earn_rules.create_rule(session, Rule(None, None, "contest_played", "بازی", "Played a contest",
                                                points=40, use_tier_multiplier=False),
                                  actor=service.audit.CLI, now=now)
    earn_rules.activate_rule(session, rule.id, actor=service.audit.CLI, now=now)
    member = make_member()
    contest = make_quiz(session, now, questions=1)
    play_all(session, contest, member.id, now)
    assert ledger.balance_of(session, member.id, "points") == 40
    # a replayed last answer does not finish (or earn) twice
    question = quiz.answers_of(session, contest.id, member.id)[0][0]
    replay = contest_play.answer_question(session, contest_id=contest.id, member_id=member.id,
                                          question_id=question.id, option=question.correct_option,
                                          now=now + timedelta(seconds=3))
    assert replay.outcome.value == "duplicate" and replay.finished is None
    assert ledger.balance_of(session, member.id, "points") == 40
