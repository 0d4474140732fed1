"""Segments: the active members matching a list of conditions (all must hold),
compiled to one SQL statement that gives the same answer on SQLite and PostgreSQL.

A condition is a small JSON object stored on the segment:

    {"field": "tier", "op": "in", "value": [3, 4, "none"]}
    {"field": "points" | "credit", "op": "gte" | "lte", "value": 500}
    {"field": "spend" | "purchases", "op": "gte" | "lte", "value": 2_000_000, "days": 30}
    {"field": "last_purchase", "op": "gte" | "lte", "value": 60}   (days since)
    {"field": "last_purchase", "op": "never"}
    {"field": "joined", "op": "before" | "after", "value": "2026-03-21"}
    {"field": "joined", "op": "within", "value": 30}               (days)
    {"field": "birthday", "op": "jalali" | "gregorian", "value": [1, 12]}
    {"field": "referrals", "op": "gte", "value": 3}
    {"field": "locale", "op": "eq", "value": "fa"}
    {"field": "consent_email" | "consent_sms", "op": "eq", "value": true}

What the words mean, once for everyone who reads a segment:
- "N days" are 24-hour periods back from `now`; a purchase exactly N days old is
  outside a window of N days (as in the tier engine's rolling windows).
- A purchase counts once it is not fully refunded; spend is amount minus what was
  refunded, by purchase time. Members with no purchases have spend 0 and count 0,
  so "at most" bounds include them. "Days since the last purchase" never matches a
  member who never purchased: that is the separate "never" condition.
- Tier: `tier_id` is the level held now (an override included). A member not yet
  evaluated holds the entry level (as `tiers.member_level` says), so choosing the
  entry level includes them; "none" matches exactly the members with no level
  stored (e.g. a club without a tier program).
- Joined before/after a date: the date is a day in the club's time zone; "after"
  means on or after that day.
- A member without a chosen language has the club's default language.
- Birthday months: the Jalali month of a Gregorian date depends on the year, but
  only by a day at each month's edges. `segment_birthdays` precomputes, from
  jdatetime, which Gregorian days (month*100+day) are in the chosen months in
  every year from 1900 to 2100 and which only in some years, and emits
  `mmdd BETWEEN …` for the former and `mmdd = d AND year IN (…)` for the latter:
  a small, portable expression (EXTRACT works on both databases), no calendar
  arithmetic in SQL.
- Only active members are ever in a segment. An archived segment still answers
  (rules and campaigns that name it keep working); it is only hidden from lists.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import (
    and_,
    exists,
    extract,
    func,
    literal,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from webapp.club import current_club
from webapp.models import Member, Purchase, Segment, Tier
from webapp.services import config_cache
from webapp.services.errors import Conflict, DomainError, NotFound, Problem, ProblemsInvalid
from webapp.services.members import audit, facts
from webapp.services.offers.segment_birthdays import in_jalali_months
from webapp.services.tiers import club_timezone

# -- the conditions and their checks (pure) --------------------------------------------------

FIELDS = ("tier", "points", "credit", "spend", "purchases", "last_purchase", "joined",
          "birthday", "referrals", "locale", "consent_email", "consent_sms")
OPS = {
    "tier": ("in",),
    "points": ("gte", "lte"),
    "credit": ("gte", "lte"),
    "spend": ("gte", "lte"),
    "purchases": ("gte", "lte"),
    "last_purchase": ("gte", "lte", "never"),
    "joined": ("before", "after", "within"),
    "birthday": ("jalali", "gregorian"),
    "referrals": ("gte",),
    "locale": ("eq",),
    "consent_email": ("eq",),
    "consent_sms": ("eq",),
}
# the allowed range of each numeric value (money in the smallest unit)
LIMITS = {
    "points": (0, 10**12),
    "credit": (0, 10**15),
    "spend": (0, 10**15),
    "purchases": (0, 10**6),
    "last_purchase": (0, 36_500),
    "joined": (1, 36_500),
    "referrals": (1, 10**6),
}
WINDOW_DAYS = (1, 3650)  # spend and purchase counts look back 1 day to 10 years
LOCALES = ("fa", "en")
NO_TIER = "none"
MAX_CONDITIONS = 30
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_one(c: dict) -> list[Problem]:
    name, op, value = c.get("field"), c.get("op"), c.get("value")
    if name not in OPS:
        return [Problem(str(name), "unknown_field")]
    if op not in OPS[name]:
        return [Problem(name, "unknown_op")]
    problems = []
    if name in LIMITS and op not in ("never", "before", "after"):
        low, high = LIMITS[name]
        if not _is_int(value) or not low <= value <= high:
            problems.append(Problem(name, "number", {"low": low, "high": high}))
    if name in ("spend", "purchases"):
        days, (low, high) = c.get("days"), WINDOW_DAYS
        if not _is_int(days) or not low <= days <= high:
            problems.append(Problem(name, "days", {"low": low, "high": high}))
    if name == "tier" and (not isinstance(value, list) or not value
                           or not all(_is_int(v) or v == NO_TIER for v in value)):
        problems.append(Problem(name, "choices"))
    if name == "birthday" and (not isinstance(value, list) or not value
                               or not all(_is_int(v) and 1 <= v <= 12 for v in value)):
        problems.append(Problem(name, "choices"))
    if name == "joined" and op in ("before", "after"):
        try:
            date.fromisoformat(value if isinstance(value, str) and _ISO_DAY.fullmatch(value) else "")
        except ValueError:
            problems.append(Problem(name, "date"))
    if name == "locale" and value not in LOCALES:
        problems.append(Problem(name, "choices"))
    if name.startswith("consent_") and not isinstance(value, bool):
        problems.append(Problem(name, "choices"))
    return problems


def check_conditions(conditions) -> list[Problem]:
    """Everything wrong with a list of conditions (empty: it may be saved). An
    empty list is every active member."""
    if not isinstance(conditions, list) or not all(isinstance(c, dict) for c in conditions):
        return [Problem("", "shape")]
    if len(conditions) > MAX_CONDITIONS:
        return [Problem("", "too_many", {"n": MAX_CONDITIONS})]
    problems = [p for c in conditions for p in _check_one(c)]
    if problems:
        return problems
    seen: dict[tuple, dict] = {}
    for c in conditions:
        key = (c["field"], c["op"] if c["field"] != "joined" or c["op"] == "within" else "date"
               + c["op"])
        if key in seen:
            problems.append(Problem(c["field"], "repeated"))
        seen[key] = c
    for name in ("points", "credit", "spend", "purchases", "last_purchase"):
        low, high = seen.get((name, "gte")), seen.get((name, "lte"))
        if low and high and low["value"] > high["value"]:
            problems.append(Problem(name, "bounds"))
    if (("last_purchase", "never") in seen
            and (("last_purchase", "gte") in seen or ("last_purchase", "lte") in seen)):
        problems.append(Problem("last_purchase", "never_purchased_conflict"))
    before, after = seen.get(("joined", "datebefore")), seen.get(("joined", "dateafter"))
    if before and after and after["value"] >= before["value"]:
        problems.append(Problem("joined", "joined_order"))
    return problems


def normalise(conditions: list[dict]) -> list[dict]:
    """A checked list in a canonical form: known keys only, lists sorted, in FIELDS order."""
    out = []
    for c in conditions:
        item = {"field": c["field"], "op": c["op"]}
        if c["op"] != "never":
            value = c["value"]
            if isinstance(value, list):
                value = sorted(set(value), key=lambda v: (isinstance(v, str), v))
            item["value"] = value
        if c["field"] in ("spend", "purchases"):
            item["days"] = c["days"]
        out.append(item)
    return sorted(out, key=lambda c: (FIELDS.index(c["field"]), OPS[c["field"]].index(c["op"])))


# -- compiling to SQL ------------------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    """What the SQL depends on besides the conditions."""

    now: datetime
    tz: str = "Asia/Tehran"
    default_locale: str = "fa"
    member_id: int | None = None  # one member: every subquery is narrowed to them


def _context(now: datetime, member_id: int | None = None) -> Context:
    club = current_club()
    return Context(now=now, tz=club.timezone, default_locale=club.locale, member_id=member_id)


def _counted():
    return Purchase.refunded_amount < Purchase.amount


def _grouped(ctx: Context, member_col, *where):
    query = select(member_col).where(member_col.is_not(None), *where)
    if ctx.member_id is not None:
        query = query.where(member_col == ctx.member_id)
    return query.group_by(member_col)


def _at_least_or_most(ctx: Context, op: str, bound: int, member_col, value, *where):
    """metric >= bound / metric <= bound, where members with no rows have 0: a
    semi-join on the members above (or at) the bound, never a loop."""
    if op == "gte":
        if bound <= 0:
            return true()
        return Member.id.in_(_grouped(ctx, member_col, *where).having(value >= bound))
    return Member.id.not_in(_grouped(ctx, member_col, *where).having(value > bound))


def _window(ctx: Context, days: int):
    return Purchase.occurred_at > ctx.now - timedelta(days=days)


def _tier(c, ctx):
    ids = [v for v in c["value"] if v != NO_TIER]
    parts = [Member.tier_id.in_(ids)] if ids else []
    if NO_TIER in c["value"]:
        parts.append(Member.tier_id.is_(None))
    elif ids:  # not evaluated yet: they hold the entry level
        parts.append(and_(Member.tier_id.is_(None),
                          exists().where(Tier.id.in_(ids), Tier.rank == 0)))
    return or_(*parts)


def _balance(column):
    def clause(c, ctx):
        return column >= c["value"] if c["op"] == "gte" else column <= c["value"]

    return clause


def _spend(c, ctx):
    net = func.coalesce(func.sum(Purchase.amount - Purchase.refunded_amount), 0)
    return _at_least_or_most(ctx, c["op"], c["value"], Purchase.member_id, net, _window(ctx, c["days"]))


def _purchases(c, ctx):
    return _at_least_or_most(ctx, c["op"], c["value"], Purchase.member_id, func.count(Purchase.id),
                             _window(ctx, c["days"]), _counted())


def _last_purchase(c, ctx):
    if c["op"] == "never":
        return Member.id.not_in(_grouped(ctx, Purchase.member_id, _counted()))
    days = c["value"]
    if c["op"] == "gte":  # the newest purchase is at least N whole days old
        last = func.max(Purchase.occurred_at)
        return Member.id.in_(_grouped(ctx, Purchase.member_id, _counted())
                             .having(last <= ctx.now - timedelta(days=days)))
    # at most N whole days: one purchase less than N + 1 days old
    return Member.id.in_(_grouped(ctx, Purchase.member_id, _counted(), _window(ctx, days + 1)))


def local_midnight(day: date, tz: str) -> datetime:
    return datetime.combine(day, time(), tzinfo=ZoneInfo(tz)).astimezone(UTC)


def _joined(c, ctx):
    if c["op"] == "within":
        return Member.created_at > ctx.now - timedelta(days=c["value"])
    start = local_midnight(date.fromisoformat(c["value"]), ctx.tz)
    return Member.created_at < start if c["op"] == "before" else Member.created_at >= start


def _birthday(c, ctx):
    if c["op"] == "gregorian":
        return and_(Member.birthday.is_not(None), extract("month", Member.birthday).in_(c["value"]))
    return and_(Member.birthday.is_not(None), in_jalali_months(frozenset(c["value"])))


def _referrals(c, ctx):
    referrer = Member.__table__.alias("referred")
    return _at_least_or_most(ctx, "gte", c["value"], referrer.c.referred_by_id,
                             func.count(referrer.c.id))


def _locale(c, ctx):
    if c["value"] == ctx.default_locale:
        return or_(Member.locale == c["value"], Member.locale.is_(None))
    return Member.locale == c["value"]


def _consent(column):
    def clause(c, ctx):
        return column.is_(True) if c["value"] else column.is_(False)

    return clause


COMPILERS = {
    "tier": _tier,
    "points": _balance(Member.points_balance),
    "credit": _balance(Member.credit_balance),
    "spend": _spend,
    "purchases": _purchases,
    "last_purchase": _last_purchase,
    "joined": _joined,
    "birthday": _birthday,
    "referrals": _referrals,
    "locale": _locale,
    "consent_email": _consent(Member.consent_email),
    "consent_sms": _consent(Member.consent_sms),
}


def where_clauses(conditions: list[dict], ctx: Context) -> list:
    """The WHERE of the segment over `member` (active members only)."""
    return [Member.status == "active", *(COMPILERS[c["field"]](c, ctx) for c in conditions)]


# -- the public contract ---------------------------------------------------------------------


class InvalidSegment(ProblemsInvalid):
    """The segment's conditions are not valid."""

    code = "invalid_segment"


class SegmentNameTaken(Conflict):
    """Another segment already has this name."""

    code = "segment_name_taken"


class SegmentArchived(DomainError):
    """The segment is archived."""

    code = "segment_archived"
    status = 409


def _segment(session: Session, segment_id: int) -> Segment:
    segment = session.get(Segment, segment_id)
    if segment is None:
        raise NotFound("Segment not found.", segment_id=segment_id)
    return segment


def members_query(conditions: list[dict], now: datetime, *columns):
    """SELECT `columns` (default: member ids) of the active members matching `conditions`."""
    return select(*(columns or (Member.id,))).where(*where_clauses(conditions, _context(now)))


def audience(session: Session, segment_id: int | None, now: datetime):
    """SELECT of the ids of active members in the segment (None: every active
    member), for set-based INSERT … SELECT and counts."""
    conditions = [] if segment_id is None else _segment(session, segment_id).conditions
    return members_query(conditions, now)


def member_ids_in(session: Session, segment_ids, member_id: int, now: datetime) -> set[int]:
    """Which of `segment_ids` the member belongs to now: one query (plus one to
    read definitions not already loaded in this session), every subquery narrowed
    to the member. Unknown ids are not matched."""
    wanted = sorted({int(i) for i in segment_ids or ()})
    if not wanted:
        return set()
    # the identity map holds objects weakly: keep strong references while compiling
    loaded = {i: s for i in wanted if (s := session.identity_map.get((Segment, (i,), None))) is not None}
    missing = [i for i in wanted if i not in loaded]
    if missing:
        loaded.update((s.id, s) for s in session.scalars(select(Segment).where(Segment.id.in_(missing))))
    segments = [loaded[i] for i in wanted if i in loaded]
    if not segments:
        return set()
    branches = _member_branches(segments, member_id, now, lambda s: [literal(s.id).label("segment_id")])
    stmt = branches[0] if len(branches) == 1 else union_all(*branches)
    return {int(i) for i in session.scalars(stmt)}


def _member_branches(segments, member_id: int, now: datetime, columns) -> list:
    """One SELECT per segment, returning `columns(segment)` when the member is in it."""
    ctx = _context(now, member_id=member_id)
    return [select(*columns(s)).where(Member.id == member_id, *where_clauses(s.conditions, ctx))
            for s in segments]


def _definitions(session: Session) -> dict[int, SegmentDefinition]:
    return {s.id: SegmentDefinition(s.id, s.conditions) for s in session.scalars(select(Segment))}


@dataclass(frozen=True)
class SegmentDefinition:
    id: int
    conditions: list


def member_facts(session: Session, name: str, segment_ids, member_id: int, now: datetime) -> list:
    """`facts` SELECTs naming (as `ref`) each of `segment_ids` the member is in;
    the definitions come from the configuration cache."""
    known = config_cache.cached(session, "segments", _definitions)
    segments = [known[i] for i in sorted({int(i) for i in segment_ids or ()}) if i in known]
    return _member_branches(segments, member_id, now, lambda s: facts.fact(name, ref=literal(s.id)))


def contains(session: Session, segment_id: int, member_id: int, now: datetime) -> bool:
    return segment_id in member_ids_in(session, [segment_id], member_id, now)


def count_matching(session: Session, conditions: list[dict], now: datetime) -> int:
    sub = members_query(conditions, now).subquery()
    return int(session.scalar(select(func.count()).select_from(sub)))


def count(session: Session, segment_id: int | None, now: datetime) -> int:
    sub = audience(session, segment_id, now).subquery()
    return int(session.scalar(select(func.count()).select_from(sub)))


def counts(session: Session, segments: Iterable[Segment], now: datetime) -> dict[int, int]:
    """The member count of each segment, all in one statement."""
    segments = list(segments)
    if not segments:
        return {}
    columns = [select(func.count()).select_from(members_query(s.conditions, now).subquery())
               .scalar_subquery().label(f"s{i}") for i, s in enumerate(segments)]
    row = session.execute(select(*columns)).one()
    return {s.id: int(n) for s, n in zip(segments, row, strict=True)}


def first_members(session: Session, conditions: list[dict], now: datetime, limit: int = 20) -> list[Member]:
    ids = members_query(conditions, now).order_by(Member.id).limit(limit).subquery()
    return list(session.scalars(select(Member).where(Member.id.in_(select(ids.c.id))).order_by(Member.id)))


def active_segments(session: Session) -> list[Segment]:
    """Segments staff can choose (for rules, rewards, campaigns, challenges)."""
    return list(session.scalars(select(Segment).where(Segment.archived_at.is_(None)).order_by(Segment.name)))


def list_segments(session: Session, *, archived: bool = False) -> list[Segment]:
    archived_clause = Segment.archived_at.is_not(None) if archived else Segment.archived_at.is_(None)
    return list(session.scalars(select(Segment).where(archived_clause).order_by(Segment.name)))


EXPORT_COLUMNS = ("id", "name", "email", "mobile", "tier", "points", "joined")


def export_rows(session: Session, segment_id: int, now: datetime, *, tier_names: dict[int | None, str],
                chunk: int = 1000, tz: str | None = None) -> Iterator[tuple]:
    """The segment's members as rows of EXPORT_COLUMNS, streamed in chunks of
    `chunk` (never all in memory). `tier_names` maps tier ids (and None: not yet
    evaluated) to the name to write."""
    stmt = audience(session, segment_id, now).with_only_columns(
        Member.id, Member.display_name, Member.email, Member.mobile, Member.tier_id,
        Member.points_balance, Member.created_at,
    ).order_by(Member.id).execution_options(yield_per=chunk)
    tz = ZoneInfo(club_timezone(tz))
    for mid, name, email, mobile, tier_id, points, joined in session.execute(stmt):
        yield (mid, name or "", email or "", mobile or "", tier_names.get(tier_id, ""), int(points),
               joined.astimezone(tz).date().isoformat())


# -- staff writes ----------------------------------------------------------------------------


def _checked(conditions) -> list[dict]:
    problems = check_conditions(conditions)
    if problems:
        raise InvalidSegment(problems)
    return normalise(conditions)


def _name_free(session: Session, name: str, segment_id: int | None) -> None:
    query = select(Segment.id).where(func.lower(Segment.name) == name.lower())
    if segment_id is not None:
        query = query.where(Segment.id != segment_id)
    if session.scalar(query) is not None:
        raise SegmentNameTaken(name=name)


def _snapshot(segment: Segment) -> dict:
    return {"name": segment.name, "description": segment.description, "conditions": segment.conditions}


def _flush(session: Session, segment: Segment) -> None:
    try:
        with session.begin_nested():
            session.add(segment)
            session.flush()
    except IntegrityError as exc:  # the same name saved concurrently
        raise SegmentNameTaken(name=segment.name) from exc


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name or len(name) > 80:
        raise InvalidSegment([Problem("name", "segment_name")])
    return name


def create_segment(session: Session, *, name: str, conditions: list[dict], actor: audit.Actor,
                   now: datetime, description: str | None = None) -> Segment:
    name, conditions = _clean_name(name), _checked(conditions)
    _name_free(session, name, None)
    segment = Segment(name=name, description=(description or "").strip()[:300] or None,
                      conditions=conditions, created_by=actor.label, created_at=now, updated_at=now)
    _flush(session, segment)
    audit.record(session, actor, "segment.create", "segment", segment.id, now=now, after=_snapshot(segment))
    return segment


def update_segment(session: Session, segment_id: int, *, name: str, conditions: list[dict],
                   actor: audit.Actor, now: datetime, description: str | None = None) -> Segment:
    segment = _segment(session, segment_id)
    if segment.archived_at is not None:
        raise SegmentArchived(segment_id=segment_id)
    name, conditions = _clean_name(name), _checked(conditions)
    _name_free(session, name, segment_id)
    before = _snapshot(segment)
    segment.name, segment.conditions = name, conditions
    segment.description = (description or "").strip()[:300] or None
    after = _snapshot(segment)
    if after == before:
        return segment
    segment.updated_at = now
    _flush(session, segment)
    changed = [k for k in after if after[k] != before[k]]
    audit.record(session, actor, "segment.update", "segment", segment_id, now=now,
                 before={k: before[k] for k in changed}, after={k: after[k] for k in changed})
    return segment


def archive_segment(session: Session, segment_id: int, *, actor: audit.Actor, now: datetime) -> Segment:
    segment = _segment(session, segment_id)
    if segment.archived_at is not None:
        return segment  # a second click changes nothing
    segment.archived_at = now
    session.flush()
    audit.record(session, actor, "segment.archive", "segment", segment_id, now=now,
                 before={"archived": False}, after={"archived": True})
    return segment


def record_export(session: Session, segment_id: int, *, rows: int, actor: audit.Actor, now: datetime) -> None:
    """Personal data left the club: say who took it (audited like a write)."""
    audit.record(session, actor, "segment.export", "segment", segment_id, now=now, after={"members": rows})
