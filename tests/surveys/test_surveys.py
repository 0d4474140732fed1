"""Surveys in the service layer (rolled-back database): designing them (audited),
answering once by token, the triggered invitations after a purchase or a
redemption under the once-per-cooldown rule, and the results' arithmetic on
the database (trend by Tehran month, per tier, per segment, in fixed queries)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests import factories
from webapp.models import AuditLog, InboxMessage, OutboxMessage, SurveyAnswer, SurveyInvite
from webapp.services import surveys
from webapp.services.ledger import purchases
from webapp.services.members import audit
from webapp.services.offers import rewards
from webapp.services.surveys import invites, results

NPS_QUESTION = {"question_fa": "چقدر ما را به دوستانتان پیشنهاد می‌کنید؟",
                "question_en": "How likely are you to recommend us to a friend?"}


def make_survey(session, now, *, kind="nps", trigger="manual", segment_id=None, activate=True):
    survey = surveys.create_survey(session, surveys.SurveyDraft(kind=kind, name=f"{kind} {trigger}", trigger=trigger,
                                                                segment_id=segment_id, **NPS_QUESTION),
                                   actor=audit.CLI, now=now)
    if activate:
        surveys.activate_survey(session, survey.id, actor=audit.CLI, now=now)
    return survey


def invite_of(session, survey_id, member_id):
    return session.scalar(select(SurveyInvite).where(SurveyInvite.survey_id == survey_id,
                                                     SurveyInvite.member_id == member_id))


def test_designing_a_survey_is_audited_and_moves_draft_active_closed(session, now):
    survey = make_survey(session, now, activate=False)
    assert survey.status == "draft"
    surveys.activate_survey(session, survey.id, actor=audit.CLI, now=now)
    with pytest.raises(surveys.SurveyStateConflict):
        surveys.activate_survey(session, survey.id, actor=audit.CLI, now=now)
    surveys.close_survey(session, survey.id, actor=audit.CLI, now=now)
    actions = session.scalars(select(AuditLog.action).where(AuditLog.object_type == "survey")
                              .order_by(AuditLog.id)).all()
    assert actions == ["survey.create", "survey.activate", "survey.close"]


def test_a_survey_needs_both_questions_and_known_kind(session, now):
    with pytest.raises(surveys.SurveyInvalid) as refused:
        surveys.create_survey(session, surveys.SurveyDraft(kind="stars", name="x", question_fa="", question_en="Q"),
                              actor=audit.CLI, now=now)
    assert set(refused.value.problems) == {"kind", "question_fa"}


def test_an_active_survey_keeps_its_question(session, now):
    survey = make_survey(session, now)
    draft = surveys.SurveyDraft(kind="nps", name="renamed", question_fa="دیگر", question_en="Other")
    with pytest.raises(surveys.SurveyInvalid) as refused:
        surveys.update_survey(session, survey.id, draft, actor=audit.CLI, now=now)
    assert set(refused.value.problems) == {"question_fa", "question_en"}
    renamed = surveys.update_survey(session, survey.id, surveys.SurveyDraft(
        kind="nps", name="renamed", **NPS_QUESTION), actor=audit.CLI, now=now)
    assert renamed.name == "renamed"


def test_sending_to_a_segment_invites_each_member_once_with_a_message(session, now):
    survey = make_survey(session, now)
    members = [factories.member(session) for _ in range(3)]
    assert surveys.send_survey(session, survey.id, None, actor=audit.CLI, now=now) == 3
    assert surveys.send_survey(session, survey.id, None, actor=audit.CLI, now=now + timedelta(days=400)) == 0
    tokens = session.scalars(select(SurveyInvite.token).where(SurveyInvite.survey_id == survey.id)).all()
    assert len(set(tokens)) == 3 and all(len(t) >= 32 for t in tokens)
    rows = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "survey")).all()
    assert sorted({r.channel for r in rows}) == ["email", "inbox", "sms"] and len(rows) == 9
    assert {r.params["path"] for r in rows} == {f"/surveys/{t}" for t in tokens}
    inbox = session.scalars(select(InboxMessage).where(InboxMessage.kind == "survey")).all()
    assert sorted(m.member_id for m in inbox) == sorted(m.id for m in members)


def test_a_segment_send_in_chunks_goes_on_where_it_stopped(session, now):
    survey = make_survey(session, now)
    for _ in range(5):
        factories.member(session)
    assert invites.invite_segment(session, survey.id, None, now=now, limit=2) == 2
    assert invites.invite_segment(session, survey.id, None, now=now, limit=2) == 2
    assert invites.invite_segment(session, survey.id, None, now=now, limit=2) == 1
    assert invites.invite_segment(session, survey.id, None, now=now, limit=2) == 0


def test_a_draft_or_closed_survey_is_not_sent(session, now):
    survey = make_survey(session, now, activate=False)
    factories.member(session)
    with pytest.raises(surveys.SurveyStateConflict):
        surveys.send_survey(session, survey.id, None, actor=audit.CLI, now=now)


def _invited(session, now, kind="nps"):
    survey = make_survey(session, now, kind=kind)
    member = factories.member(session)
    surveys.send_survey(session, survey.id, None, actor=audit.CLI, now=now)
    return survey, member, invite_of(session, survey.id, member.id)


def test_an_invitation_is_answered_once_and_a_second_answer_changes_nothing(session, now):
    survey, member, invite = _invited(session, now)
    first = surveys.answer_survey(session, invite.token, score=9, comment="  Great coffee  ", now=now)
    assert first.new and (first.answer.score, first.answer.comment) == (9, "Great coffee")
    again = surveys.answer_survey(session, invite.token, score=0, comment="changed my mind", now=now)
    assert not again.new and again.answer.id == first.answer.id
    session.expire_all()
    [stored] = session.scalars(select(SurveyAnswer)).all()
    assert (stored.score, stored.comment, stored.member_id) == (9, "Great coffee", member.id)
    assert invite_of(session, survey.id, member.id).answered_at == now


def test_a_comment_after_a_one_tap_score_is_kept_once(session, now):
    _, _, invite = _invited(session, now)
    surveys.answer_survey(session, invite.token, score=8, comment="", now=now)
    assert surveys.add_comment(session, invite.token, comment="Friendly staff", now=now).comment == "Friendly staff"
    assert surveys.add_comment(session, invite.token, comment="Replaced?", now=now).comment == "Friendly staff"


@pytest.mark.parametrize(("kind", "score"), [("nps", 11), ("nps", -1), ("nps", None), ("csat", 0), ("csat", 6),
                                             ("nps", "7")])
def test_a_score_off_the_scale_is_refused_and_nothing_is_kept(session, now, kind, score):
    _, _, invite = _invited(session, now, kind=kind)
    with pytest.raises(surveys.ScoreInvalid):
        surveys.answer_survey(session, invite.token, score=score, comment=None, now=now)
    session.rollback()
    assert session.scalar(select(SurveyAnswer.id)) is None


def test_a_closed_survey_takes_no_answers(session, now):
    survey, _, invite = _invited(session, now)
    surveys.close_survey(session, survey.id, actor=audit.CLI, now=now)
    with pytest.raises(surveys.SurveyClosed):
        surveys.answer_survey(session, invite.token, score=10, comment=None, now=now)


def test_a_token_answers_only_its_own_invitation(session, now):
    survey = make_survey(session, now)
    alice, bob = factories.member(session), factories.member(session)
    surveys.send_survey(session, survey.id, None, actor=audit.CLI, now=now)
    alices, bobs = invite_of(session, survey.id, alice.id), invite_of(session, survey.id, bob.id)
    surveys.answer_survey(session, alices.token, score=2, comment="mine", now=now)
    # Alice's token used again (or a guessed one) never touches Bob's invitation
    surveys.answer_survey(session, alices.token, score=10, comment="as Bob", now=now)
    with pytest.raises(surveys.NotFound):
        surveys.answer_survey(session, bobs.token[:-1] + "x", score=10, comment=None, now=now)
    session.expire_all()
    assert bobs.answered_at is None
    assert [(a.member_id, a.invite_id, a.score) for a in session.scalars(select(SurveyAnswer))] == [
        (alice.id, alices.id, 2)]


def test_the_answer_keeps_the_tier_held_when_answering(session, now):
    from webapp.services import ledger, tiers

    tiers.save_program(session, tiers.default_program(), actor=audit.CLI, now=now)
    survey, member, invite = _invited(session, now)
    ledger.award_points(session, member.id, 5_000, key="up", now=now)
    tiers.on_qualifying_event(session, member.id, now=now)
    session.refresh(member)
    assert member.tier_id is not None
    answer = surveys.answer_survey(session, invite.token, score=10, comment=None, now=now).answer
    assert answer.tier_id == member.tier_id


# -- triggered invitations ------------------------------------------------------------------


def _buy(session, member_id, when, n):
    purchases.record_purchase(session, member_id=member_id, amount=100_000, currency="IRR", occurred_at=when,
                              now=when, external_ref=f"till-{n}")


def test_a_purchase_invites_to_after_purchase_surveys_once_per_cooldown(session, now):
    csat = make_survey(session, now, kind="csat", trigger="after_purchase")
    make_survey(session, now, kind="nps", trigger="after_redemption")  # another trigger: not asked
    member = factories.member(session)
    _buy(session, member.id, now, 1)
    _buy(session, member.id, now + timedelta(days=29), 2)  # within 30 days: not again
    assert [i.cause for i in session.scalars(select(SurveyInvite))] == [f"purchase:{1}"]
    _buy(session, member.id, now + timedelta(days=31), 3)
    invites_now = session.scalars(select(SurveyInvite).order_by(SurveyInvite.id)).all()
    assert [(i.survey_id, i.cause) for i in invites_now] == [(csat.id, "purchase:1"), (csat.id, "purchase:3")]
    keys = sorted(session.scalars(select(OutboxMessage.key).where(OutboxMessage.channel == "inbox")))
    assert keys == sorted(f"survey:{i.id}" for i in invites_now)


def test_a_redemption_invites_once_and_a_replayed_one_does_not(session, now):
    survey = make_survey(session, now, kind="csat", trigger="after_redemption")
    member = factories.member(session, points=1_000)
    reward_id = factories.reward(session, now).id
    first = rewards.redeem_reward(session, member_id=member.id, reward_id=reward_id, request_key="r1", now=now)
    rewards.redeem_reward(session, member_id=member.id, reward_id=reward_id, request_key="r1", now=now)
    [invite] = session.scalars(select(SurveyInvite)).all()
    assert (invite.survey_id, invite.member_id, invite.cause) == (survey.id, member.id,
                                                                   f"redemption:{first.coupon.id}")


def test_a_triggered_survey_for_a_segment_asks_only_its_members(session, now):
    rich = factories.segment(session, "Rich")  # 100 points or more
    make_survey(session, now, kind="nps", trigger="after_purchase", segment_id=rich.id)
    poor, wealthy = factories.member(session), factories.member(session, points=500)
    _buy(session, poor.id, now, 1)
    _buy(session, wealthy.id, now, 2)
    assert [i.member_id for i in session.scalars(select(SurveyInvite))] == [wealthy.id]


def test_nothing_is_asked_while_no_survey_is_active(session, now):
    make_survey(session, now, trigger="after_purchase", activate=False)
    member = factories.member(session)
    _buy(session, member.id, now, 1)
    assert session.scalar(select(SurveyInvite.id)) is None


# -- results --------------------------------------------------------------------------------


def _answers(session, survey, scored):
    """(score, when[, member]) → answers through invitations, as members give them."""
    for n, (score, when, *who) in enumerate(scored):
        member = who[0] if who else factories.member(session)
        invites._invite(session, survey, [{"member_id": member.id, "cause": f"test:{n}"}], when)
        invite = session.scalar(select(SurveyInvite).where(SurveyInvite.cause == f"test:{n}"))
        surveys.answer_survey(session, invite.token, score=score, comment=None, now=when)


def test_the_trend_counts_answers_in_the_tehran_month_they_were_given(session):
    survey = make_survey(session, datetime(2026, 10, 1, tzinfo=UTC))
    # Tehran is UTC+3:30: 20:00 UTC on 30 Nov is 23:30 there (November); 21:00 UTC is 00:30 on 1 Dec
    _answers(session, survey, [(10, datetime(2026, 11, 30, 20, 0, tzinfo=UTC)),
                               (0, datetime(2026, 11, 30, 21, 0, tzinfo=UTC)),
                               (9, datetime(2026, 12, 2, 9, 0, tzinfo=UTC))])
    trend = results.trend(session, survey, now=datetime(2026, 12, 3, 12, tzinfo=UTC), tz="Asia/Tehran", months=3)
    assert [(m.month.year, m.month.number) for m in trend] == [(2026, 10), (2026, 11), (2026, 12)]
    assert [m.figures.answers for m in trend] == [0, 1, 2]
    assert [m.figures.nps for m in trend] == [None, 100, 0]
    # in UTC the same answers split the other way
    utc = results.trend(session, survey, now=datetime(2026, 12, 3, 12, tzinfo=UTC), tz="UTC", months=2)
    assert [m.figures.answers for m in utc] == [2, 1]


def test_a_persian_club_sees_its_trend_by_jalali_month(session):
    survey = make_survey(session, datetime(2026, 10, 1, tzinfo=UTC))
    # 1 Dey 1405 is 22 Dec 2026: 20:00 UTC on 21 Dec is 23:30 on 30 Azar in Tehran, 21:00 UTC is 1 Dey
    _answers(session, survey, [(3, datetime(2026, 12, 21, 20, 0, tzinfo=UTC)),
                               (10, datetime(2026, 12, 21, 21, 0, tzinfo=UTC)),
                               (9, datetime(2026, 12, 30, 9, 0, tzinfo=UTC))])
    trend = results.trend(session, survey, now=datetime(2027, 1, 2, tzinfo=UTC), tz="Asia/Tehran", months=2,
                          calendar="jalali")
    assert [(m.month.year, m.month.number) for m in trend] == [(1405, 9), (1405, 10)]
    assert trend[1].month.starts_at == datetime(2026, 12, 21, 20, 30, tzinfo=UTC)
    assert [(m.figures.answers, m.figures.nps) for m in trend] == [(1, -100), (2, 100)]


def test_months_step_back_across_the_year(session):
    months = results.months_until(datetime(2026, 2, 10, tzinfo=UTC), "Asia/Tehran", 3)
    assert [(m.year, m.number) for m in months] == [(2025, 12), (2026, 1), (2026, 2)]
    jalali = results.months_until(datetime(2026, 4, 1, tzinfo=UTC), "Asia/Tehran", 3, "jalali")
    assert [(m.year, m.number) for m in jalali] == [(1404, 11), (1404, 12), (1405, 1)]


def test_results_per_tier_and_segment_are_fixed_queries_whatever_their_number(session, now, count_queries):
    survey = make_survey(session, now)
    _answers(session, survey, [(10, now, factories.member(session, points=500)), (3, now), (8, now)])
    few = [factories.segment(session, "Rich")]
    many = few + [factories.segment(session, f"S{i}", [{"field": "points", "op": "gte", "value": i}])
                  for i in range(5)]
    session.flush()
    for chosen in (few, many):
        with count_queries() as statements:
            per_segment = results.by_segment(session, survey, chosen, now=now)
            per_tier = results.by_tier(session, survey)
        assert len(statements) == 2
    assert per_segment[few[0].id].answers == 1 and per_segment[few[0].id].nps == 100
    assert per_segment[many[1].id].answers == 3 and per_segment[many[1].id].nps == 0
    assert per_tier[None].answers == 3
    overall = results.overall(session, survey)
    assert (overall.promoters, overall.passives, overall.detractors, overall.nps) == (1, 1, 1, 0)


# -- a detractor's follow-up -------------------------------------------------------------------


def _threads(session):
    from webapp.models import FeedbackPost, FeedbackThread

    return [(t.member_id, t.category, t.source, t.survey_answer_id,
             [p.body for p in session.scalars(select(FeedbackPost).where(FeedbackPost.thread_id == t.id)
                                              .order_by(FeedbackPost.id))])
            for t in session.scalars(select(FeedbackThread).order_by(FeedbackThread.id))]


@pytest.mark.parametrize(("kind", "score", "opens"), [("nps", 6, True), ("nps", 7, False), ("nps", 0, True),
                                                      ("csat", 2, True), ("csat", 3, False)])
def test_a_detractors_answer_opens_one_feedback_thread(session, now, kind, score, opens):
    survey, member, invite = _invited(session, now, kind=kind)
    answer = surveys.answer_survey(session, invite.token, score=score, comment="Too slow at the till", now=now).answer
    surveys.answer_survey(session, invite.token, score=score, comment="again", now=now)
    top = 10 if kind == "nps" else 5
    expected = [(member.id, "survey", "survey", answer.id, [f"{survey.name}: {score}/{top}\n\nToo slow at the till"])]
    assert _threads(session) == (expected if opens else [])


def test_the_why_after_a_one_tap_detractor_score_joins_its_thread(session, now):
    survey, member, invite = _invited(session, now)
    answer = surveys.answer_survey(session, invite.token, score=2, comment=None, now=now).answer
    surveys.add_comment(session, invite.token, comment="Rude staff", now=now + timedelta(minutes=1))
    assert _threads(session) == [(member.id, "survey", "survey", answer.id, [f"{survey.name}: 2/10", "Rude staff"])]
