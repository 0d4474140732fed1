"""Segments: every condition at its boundaries, the bulk query and the one-member
answer agreeing, the pure checks, and staff writes (audited)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import count

import jdatetime
import pytest
from sqlalchemy import insert, select

from webapp.models import AuditLog, Member, Purchase, Segment, Tier
from webapp.services import tiers
from webapp.services.errors import NotFound
from webapp.services.members import audit
from webapp.services.offers import segments
from webapp.services.tiers.rules import Level, Program

_SEQ = count(1)
DAY = timedelta(days=1)
SECOND = timedelta(seconds=1)


def add_member(session, now, **fields):
    n = next(_SEQ)
    fields.setdefault("created_at", now - timedelta(days=400))
    member = Member(email=f"seg{n}@example.com", referral_code=f"SG{n:06d}", display_name=f"Member {n}",
                    **fields)
    session.add(member)
    session.flush()
    return member


def buy(session, member, amount, when, refunded=0):
    session.add(Purchase(member_id=member.id, amount=amount, refunded_amount=refunded, currency="IRR",
                         occurred_at=when, created_at=when))
    session.flush()


def matching(session, conditions, now) -> set[int]:
    """The members the bulk query selects, checked against the one-member answer
    for every member in the table (the two compile differently)."""
    assert segments.check_conditions(conditions) == []
    segment = Segment(name=f"s{next(_SEQ)}", conditions=segments.normalise(conditions))
    session.add(segment)
    session.flush()
    bulk = set(session.scalars(segments.audience(session, segment.id, now)))
    for member_id in session.scalars(select(Member.id)):
        assert segments.contains(session, segment.id, member_id, now) == (member_id in bulk), member_id
    assert segments.count(session, segment.id, now) == len(bulk)
    return bulk


def ids(*members) -> set[int]:
    return {m.id for m in members}


# -- balances ------------------------------------------------------------------------------


def test_points_and_credit_bounds_include_the_bound_itself(session, now):
    low, at, high = (add_member(session, now, points_balance=p, credit_balance=p * 10) for p in (99, 100, 101))
    assert matching(session, [{"field": "points", "op": "gte", "value": 100}], now) == ids(at, high)
    assert matching(session, [{"field": "points", "op": "lte", "value": 100}], now) == ids(low, at)
    assert matching(session, [{"field": "points", "op": "gte", "value": 100},
                              {"field": "points", "op": "lte", "value": 100}], now) == ids(at)
    assert matching(session, [{"field": "credit", "op": "gte", "value": 1001}], now) == ids(high)
    assert matching(session, [{"field": "credit", "op": "lte", "value": 999}], now) == ids(low)


def test_only_active_members_are_ever_in_a_segment(session, now):
    active = add_member(session, now)
    add_member(session, now, status="suspended")
    add_member(session, now, status="closed")
    assert matching(session, [], now) == ids(active)
    assert set(session.scalars(segments.audience(session, None, now))) == ids(active)


# -- buying --------------------------------------------------------------------------------


def test_spend_is_net_of_refunds_inside_a_window_that_excludes_its_first_instant(session, now):
    refunded = add_member(session, now)
    buy(session, refunded, 1000, now - 30 * DAY + SECOND, refunded=400)  # net 600, just inside
    edge = add_member(session, now)
    buy(session, edge, 1000, now - 30 * DAY)  # exactly 30 days old: outside
    split = add_member(session, now)
    buy(session, split, 500, now - DAY)
    buy(session, split, 100, now)
    nothing = add_member(session, now)
    spend = {"field": "spend", "days": 30}
    assert matching(session, [{**spend, "op": "gte", "value": 600}], now) == ids(refunded, split)
    assert matching(session, [{**spend, "op": "gte", "value": 601}], now) == set()
    assert matching(session, [{**spend, "op": "lte", "value": 599}], now) == ids(edge, nothing)
    assert matching(session, [{**spend, "op": "lte", "value": 0}], now) == ids(edge, nothing)
    assert matching(session, [{**spend, "op": "gte", "value": 0}], now) == ids(refunded, edge, split, nothing)
    assert matching(session, [{**spend, "days": 31, "op": "gte", "value": 1000}], now) == ids(edge)


def test_purchase_count_skips_fully_refunded_purchases_and_counts_partly_refunded_ones(session, now):
    two = add_member(session, now)
    buy(session, two, 100, now - 2 * DAY)
    buy(session, two, 100, now - DAY, refunded=99)
    one = add_member(session, now)
    buy(session, one, 100, now - DAY)
    buy(session, one, 100, now - DAY, refunded=100)
    buy(session, one, 100, now - 7 * DAY)  # exactly 7 days old: outside a 7-day window
    none = add_member(session, now)
    window = {"field": "purchases", "days": 7}
    assert matching(session, [{**window, "op": "gte", "value": 2}], now) == ids(two)
    assert matching(session, [{**window, "op": "gte", "value": 1}], now) == ids(two, one)
    assert matching(session, [{**window, "op": "lte", "value": 1}], now) == ids(one, none)
    assert matching(session, [{**window, "op": "lte", "value": 0}], now) == ids(none)
    assert matching(session, [{**window, "days": 8, "op": "gte", "value": 2}], now) == ids(two, one)


def test_days_since_last_purchase_counts_whole_days_and_never_is_its_own_condition(session, now):
    thirty = add_member(session, now)
    buy(session, thirty, 100, now - 60 * DAY)
    buy(session, thirty, 100, now - 30 * DAY)  # the last one: exactly 30 days ago
    almost = add_member(session, now)
    buy(session, almost, 100, now - 30 * DAY + SECOND)  # 29 whole days
    thirty_one = add_member(session, now)
    buy(session, thirty_one, 100, now - 31 * DAY)
    only_refunded = add_member(session, now)
    buy(session, only_refunded, 100, now - DAY, refunded=100)
    never = add_member(session, now)
    last = {"field": "last_purchase"}
    assert matching(session, [{**last, "op": "gte", "value": 30}], now) == ids(thirty, thirty_one)
    assert matching(session, [{**last, "op": "lte", "value": 30}], now) == ids(thirty, almost)
    assert matching(session, [{**last, "op": "lte", "value": 29}], now) == ids(almost)
    assert matching(session, [{**last, "op": "gte", "value": 30}, {**last, "op": "lte", "value": 30}],
                    now) == ids(thirty)
    assert matching(session, [{**last, "op": "never"}], now) == ids(only_refunded, never)


# -- membership and profile ------------------------------------------------------------------


def test_joined_dates_are_days_in_the_club_time_zone(session, now):
    # Tehran is UTC+3:30: 1 Farvardin 1405 (2026-03-21) starts at 20:30 UTC the day before
    midnight = datetime(2026, 3, 20, 20, 30, tzinfo=UTC)
    late = add_member(session, now, created_at=midnight - SECOND)
    on_the_day = add_member(session, now, created_at=midnight)
    assert matching(session, [{"field": "joined", "op": "after", "value": "2026-03-21"}], now) == ids(on_the_day)
    assert matching(session, [{"field": "joined", "op": "before", "value": "2026-03-21"}], now) == ids(late)


def test_joined_within_n_days_excludes_a_sign_up_exactly_n_days_ago(session, now):
    add_member(session, now, created_at=now - 30 * DAY)
    inside = add_member(session, now, created_at=now - 30 * DAY + SECOND)
    assert matching(session, [{"field": "joined", "op": "within", "value": 30}], now) == ids(inside)


def _jalali(y, m, d) -> date:
    return jdatetime.date(y, m, d).togregorian()


def test_jalali_birthday_months_hold_at_the_edges_where_the_gregorian_day_moves(session, now):
    # 2024-03-20 is 1 Farvardin 1403, but 2023-03-20 is still 29 Esfand 1401
    birthdays = {
        "farvardin_first": _jalali(1403, 1, 1), "esfand_same_gregorian_day": date(2023, 3, 20),
        "farvardin_last": _jalali(1403, 1, 31), "ordibehesht_first": _jalali(1403, 2, 1),
        "esfand_leap_30": _jalali(1403, 12, 30), "shahrivar_31": _jalali(1375, 6, 31),
        "mehr_first": _jalali(1375, 7, 1), "dey_first_1300s": _jalali(1330, 10, 1),
    }
    assert birthdays["esfand_same_gregorian_day"] == date(2023, 3, 20)
    members = {k: add_member(session, now, birthday=v) for k, v in birthdays.items()}
    add_member(session, now)  # no birthday given: never matched
    pick = lambda *names: {members[n].id for n in names}  # noqa: E731
    assert matching(session, [{"field": "birthday", "op": "jalali", "value": [1]}], now) == pick(
        "farvardin_first", "farvardin_last")
    assert matching(session, [{"field": "birthday", "op": "jalali", "value": [12]}], now) == pick(
        "esfand_same_gregorian_day", "esfand_leap_30")
    assert matching(session, [{"field": "birthday", "op": "jalali", "value": [6, 10]}], now) == pick(
        "shahrivar_31", "dey_first_1300s")
    assert matching(session, [{"field": "birthday", "op": "jalali", "value": [2, 7]}], now) == pick(
        "ordibehesht_first", "mehr_first")


def test_jalali_birthday_months_agree_with_the_calendar_on_every_day_of_three_years(session, now):
    days = [date(2023, 1, 1) + timedelta(days=i) for i in range(3 * 366)]
    session.execute(insert(Member), [
        {"email": f"bd{i}@example.com", "referral_code": f"BD{i:06d}", "session_token": f"bd-{i}",
         "birthday": d, "created_at": now} for i, d in enumerate(days)])
    by_email = dict(session.execute(select(Member.email, Member.birthday)).all())
    for month in range(1, 13):
        got = {by_email[e] for e in session.scalars(
            segments.members_query([{"field": "birthday", "op": "jalali", "value": [month]}], now, Member.email))}
        assert got == {d for d in days if jdatetime.date.fromgregorian(date=d).month == month}, month


def test_gregorian_birthday_months_include_leap_day_and_month_ends(session, now):
    feb29 = add_member(session, now, birthday=date(2000, 2, 29))
    mar31 = add_member(session, now, birthday=date(1990, 3, 31))
    add_member(session, now, birthday=date(1990, 4, 1))
    assert matching(session, [{"field": "birthday", "op": "gregorian", "value": [2, 3]}], now) == ids(feb29, mar31)


def test_referrals_count_every_member_who_signed_up_through_the_link(session, now):
    two = add_member(session, now)
    one = add_member(session, now)
    add_member(session, now, referred_by_id=two.id)
    add_member(session, now, referred_by_id=two.id, status="suspended")
    add_member(session, now, referred_by_id=one.id)
    assert matching(session, [{"field": "referrals", "op": "gte", "value": 2}], now) == ids(two)
    assert matching(session, [{"field": "referrals", "op": "gte", "value": 1}], now) == ids(two, one)


def test_a_member_without_a_language_has_the_club_default(session, now, app):
    assert app.config["VAFA_LOCALE"] == "en"
    unset = add_member(session, now, locale=None)
    english = add_member(session, now, locale="en")
    persian = add_member(session, now, locale="fa")
    assert matching(session, [{"field": "locale", "op": "eq", "value": "en"}], now) == ids(unset, english)
    assert matching(session, [{"field": "locale", "op": "eq", "value": "fa"}], now) == ids(persian)


def test_consents_per_channel(session, now):
    both = add_member(session, now, consent_email=True, consent_sms=True)
    mail = add_member(session, now, consent_email=True)
    neither = add_member(session, now)
    assert matching(session, [{"field": "consent_email", "op": "eq", "value": True}], now) == ids(both, mail)
    assert matching(session, [{"field": "consent_sms", "op": "eq", "value": True}], now) == ids(both)
    assert matching(session, [{"field": "consent_sms", "op": "eq", "value": False}], now) == ids(mail, neither)


def test_tier_condition_counts_members_not_yet_evaluated_as_entry_level(session, now):
    tiers.save_program(session, Program(metric="points_earned", window_kind="rolling", window_days=365,
                                        grace_days=30, levels=(Level(0, "base", "پایه", "Base", 0),
                                                               Level(1, "gold", "طلایی", "Gold", 500))),
                       actor=audit.CLI, now=now)
    base_id, gold_id = (session.scalar(select(Tier.id).where(Tier.code == c)) for c in ("base", "gold"))
    base = add_member(session, now, tier_id=base_id)
    gold = add_member(session, now, tier_id=gold_id)
    unevaluated = add_member(session, now)
    tier = {"field": "tier", "op": "in"}
    assert matching(session, [{**tier, "value": [gold_id]}], now) == ids(gold)
    assert matching(session, [{**tier, "value": [base_id]}], now) == ids(base, unevaluated)
    assert matching(session, [{**tier, "value": ["none"]}], now) == ids(unevaluated)
    assert matching(session, [{**tier, "value": [gold_id, "none"]}], now) == ids(gold, unevaluated)


def test_all_conditions_must_hold(session, now):
    rich_quiet = add_member(session, now, points_balance=1000, consent_email=True)
    buy(session, rich_quiet, 100, now - 90 * DAY)
    rich_busy = add_member(session, now, points_balance=1000, consent_email=True)
    buy(session, rich_busy, 100, now - DAY)
    add_member(session, now, points_balance=1000)  # never bought, no consent
    conditions = [{"field": "points", "op": "gte", "value": 500},
                  {"field": "last_purchase", "op": "gte", "value": 60},
                  {"field": "consent_email", "op": "eq", "value": True}]
    assert matching(session, conditions, now) == ids(rich_quiet)


# -- one member, many segments; bounded queries ------------------------------------------------


def test_member_ids_in_answers_many_segments_in_one_query(session, now, count_queries):
    member = add_member(session, now, points_balance=50, consent_sms=True)
    buy(session, member, 700, now - DAY)
    made = [Segment(name=n, conditions=c) for n, c in [
        ("rich", [{"field": "points", "op": "gte", "value": 100}]),
        ("sms", [{"field": "consent_sms", "op": "eq", "value": True}]),
        ("spender", [{"field": "spend", "op": "gte", "value": 700, "days": 7}]),
        ("lapsed", [{"field": "last_purchase", "op": "gte", "value": 30}]),
    ]]
    session.add_all(made)
    session.flush()
    wanted = [s.id for s in made]
    with count_queries() as statements:
        found = segments.member_ids_in(session, wanted, member.id, now)
    assert found == {made[1].id, made[2].id}
    assert len(statements) == 1  # the definitions were already in the session
    session.expunge_all()
    with count_queries() as statements:
        assert segments.member_ids_in(session, [*wanted, 999_999], member.id, now) == found
    assert len(statements) == 2  # one more to read the definitions (an unknown id matches nothing)
    assert segments.member_ids_in(session, [], member.id, now) == set()


def _seed(session, now, n):
    session.execute(insert(Member), [
        {"email": f"bulk{n}-{i}@example.com", "referral_code": f"BK{n}-{i}", "session_token": f"bk-{n}-{i}",
         "points_balance": i * 20, "consent_email": i % 2 == 0, "created_at": now - i * DAY} for i in range(n)])
    member_ids = list(session.scalars(select(Member.id).where(Member.email.like(f"bulk{n}-%"))))
    session.execute(insert(Purchase), [
        {"member_id": mid, "amount": 1000 + k, "currency": "IRR", "occurred_at": now - (k % 40) * DAY,
         "created_at": now} for k, mid in enumerate(member_ids) for _ in range(2)])


def test_counting_a_segment_takes_the_same_queries_for_ten_or_five_hundred_members(session, now, count_queries):
    segment = Segment(name="three", conditions=[
        {"field": "points", "op": "gte", "value": 100},
        {"field": "spend", "op": "gte", "value": 2000, "days": 30},
        {"field": "consent_email", "op": "eq", "value": True}])
    session.add(segment)
    session.flush()
    seen = []
    for n in (10, 500):
        _seed(session, now, n)
        session.expunge_all()
        with count_queries() as statements:
            total = segments.count(session, segment.id, now)  # read the segment, count
        loaded = session.get(Segment, segment.id)
        with count_queries() as batched:
            assert segments.counts(session, [loaded], now) == {segment.id: total}
        seen.append((len(statements), len(batched), total))
    assert seen[0][:2] == seen[1][:2] == (2, 1)
    assert seen[1][2] > seen[0][2] > 0


def test_counts_of_many_segments_take_one_statement(session, now, count_queries):
    add_member(session, now, points_balance=10)
    add_member(session, now, points_balance=20)
    made = [Segment(name=f"p{v}", conditions=[{"field": "points", "op": "gte", "value": v}]) for v in (0, 15, 30)]
    session.add_all(made)
    session.flush()
    with count_queries() as statements:
        assert segments.counts(session, made, now) == {made[0].id: 2, made[1].id: 1, made[2].id: 0}
    assert len(statements) == 1


# -- checks --------------------------------------------------------------------------------


@pytest.mark.parametrize(("conditions", "codes"), [
    ([{"field": "height", "op": "gte", "value": 1}], ["unknown_field"]),
    ([{"field": "points", "op": "gt", "value": 1}], ["unknown_op"]),
    ([{"field": "points", "op": "gte", "value": -1}], ["number"]),
    ([{"field": "points", "op": "gte", "value": True}], ["number"]),
    ([{"field": "points", "op": "gte", "value": "5"}], ["number"]),
    ([{"field": "spend", "op": "gte", "value": 5}], ["days"]),
    ([{"field": "spend", "op": "gte", "value": 5, "days": 3651}], ["days"]),
    ([{"field": "referrals", "op": "gte", "value": 0}], ["number"]),
    ([{"field": "tier", "op": "in", "value": []}], ["choices"]),
    ([{"field": "birthday", "op": "jalali", "value": [13]}], ["choices"]),
    ([{"field": "joined", "op": "after", "value": "2026-02-30"}], ["date"]),
    ([{"field": "locale", "op": "eq", "value": "de"}], ["choices"]),
    ([{"field": "consent_sms", "op": "eq", "value": 1}], ["choices"]),
    ([{"field": "points", "op": "gte", "value": 5}, {"field": "points", "op": "gte", "value": 6}], ["repeated"]),
    ([{"field": "points", "op": "gte", "value": 6}, {"field": "points", "op": "lte", "value": 5}], ["bounds"]),
    ([{"field": "last_purchase", "op": "never"}, {"field": "last_purchase", "op": "lte", "value": 5}],
     ["never_purchased_conflict"]),
    ([{"field": "joined", "op": "after", "value": "2026-03-01"},
      {"field": "joined", "op": "before", "value": "2026-03-01"}], ["joined_order"]),
    ("points >= 5", ["shape"]),
])
def test_check_conditions_names_each_problem(conditions, codes):
    assert [p.code for p in segments.check_conditions(conditions)] == codes


def test_normalise_sorts_and_drops_unknown_keys():
    assert segments.normalise([
        {"field": "consent_sms", "op": "eq", "value": True, "extra": 1},
        {"field": "tier", "op": "in", "value": [3, "none", 1, 3]},
    ]) == [{"field": "tier", "op": "in", "value": [1, 3, "none"]},
           {"field": "consent_sms", "op": "eq", "value": True}]


# -- staff writes ----------------------------------------------------------------------------


def _audits(session, action):
    return list(session.scalars(select(AuditLog).where(AuditLog.action == action)))


def test_create_update_and_archive_are_audited(session, now):
    actor = audit.CLI
    segment = segments.create_segment(session, name="  Big   spenders ", conditions=[
        {"field": "points", "op": "gte", "value": 100}], actor=actor, now=now)
    assert segment.name == "Big spenders"
    assert _audits(session, "segment.create")[0].after["conditions"][0]["value"] == 100
    segments.update_segment(session, segment.id, name="Big spenders", conditions=[
        {"field": "points", "op": "gte", "value": 200}], actor=actor, now=now + DAY)
    [update] = _audits(session, "segment.update")
    assert (update.before, update.after) == ({"conditions": [{"field": "points", "op": "gte", "value": 100}]},
                                             {"conditions": [{"field": "points", "op": "gte", "value": 200}]})
    segments.update_segment(session, segment.id, name="Big spenders", conditions=[
        {"field": "points", "op": "gte", "value": 200}], actor=actor, now=now + 2 * DAY)
    assert len(_audits(session, "segment.update")) == 1  # nothing changed, nothing recorded
    segments.archive_segment(session, segment.id, actor=actor, now=now)
    segments.archive_segment(session, segment.id, actor=actor, now=now)
    assert len(_audits(session, "segment.archive")) == 1
    assert segments.list_segments(session) == [] and segments.active_segments(session) == []
    with pytest.raises(segments.SegmentArchived):
        segments.update_segment(session, segment.id, name="x", conditions=[], actor=actor, now=now)


def test_names_are_unique_ignoring_case_and_bad_conditions_are_refused(session, now):
    segments.create_segment(session, name="VIP", conditions=[], actor=audit.CLI, now=now)
    with pytest.raises(segments.SegmentNameTaken):
        segments.create_segment(session, name="vip", conditions=[], actor=audit.CLI, now=now)
    with pytest.raises(segments.InvalidSegment) as caught:
        segments.create_segment(session, name="Other", conditions=[{"field": "points", "op": "gte"}],
                                actor=audit.CLI, now=now)
    assert caught.value.problems == {"points": "number"}
    with pytest.raises(NotFound):
        segments.audience(session, 999_999, now)


def test_export_rows_stream_every_member_with_tier_and_local_join_day(session, now):
    late = add_member(session, now, created_at=datetime(2026, 3, 20, 21, 0, tzinfo=UTC), points_balance=5,
                      mobile="09120000000")
    segment = segments.create_segment(session, name="all", conditions=[], actor=audit.CLI, now=now)
    rows = list(segments.export_rows(session, segment.id, now, tier_names={None: "Base"}, chunk=1))
    assert rows == [(late.id, late.display_name, late.email, "09120000000", "Base", 5, "2026-03-21")]
