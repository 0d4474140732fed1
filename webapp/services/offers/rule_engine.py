"""Earn rules as pure functions: does a rule match an event, how many points it
gives, and which cap window an award falls in. No database and no Flask here:
`services.earn_rules` feeds these from the tables (and the admin dry run from a
form); both get, for every rule, whether it matched and why not. The vocabulary
(triggers, effects, cap periods) is the table's own, from `models.rules`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import jdatetime

from webapp.models.rules import CAP_PERIODS, RULE_EFFECTS, RULE_TRIGGERS
from webapp.services.tiers.rules import BP, apply_multiplier

WEEK_STARTS = 5  # Saturday (date.weekday()): the Iranian week the club's members live by
MAX_POINTS = 10_000_000
MAX_PERCENT_BP = 100 * BP  # 100 %, in basis points of the amount
LIST_LIMIT = 50  # SKUs, categories, channels, stores per rule

# why a rule did not match, in the order they are checked (views word them)
REASONS = (
    "not_started", "expired", "campaign", "min_amount", "items", "channel", "store",
    "weekday", "hours", "tier", "segment", "first_purchase", "zero_points",
)


@dataclass(frozen=True)
class Conditions:
    """All must hold. Empty sets mean "any"; hours are the club's local time, the
    window [hour_from, hour_to) wraps midnight when hour_from > hour_to."""

    min_amount: int | None = None
    skus: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    channels: frozenset[str] = frozenset()
    stores: frozenset[str] = frozenset()
    weekdays: frozenset[int] = frozenset()  # date.weekday(): Monday 0 … Sunday 6
    hour_from: int | None = None
    hour_to: int | None = None
    tier_ids: frozenset[int] = frozenset()
    segment_id: int | None = None
    first_purchase_only: bool = False

    @classmethod
    def from_dict(cls, data: dict | None) -> Conditions:
        data = data or {}

        def strings(key):
            return frozenset(str(v) for v in data.get(key) or ())

        return cls(
            min_amount=data.get("min_amount"), skus=strings("skus"),
            categories=strings("categories"), channels=strings("channels"),
            stores=strings("stores"), weekdays=frozenset(int(d) for d in data.get("weekdays") or ()),
            hour_from=data.get("hour_from"), hour_to=data.get("hour_to"),
            tier_ids=frozenset(int(t) for t in data.get("tier_ids") or ()),
            segment_id=data.get("segment_id"),
            first_purchase_only=bool(data.get("first_purchase_only")),
        )

    def to_dict(self) -> dict:
        """Only what is set, sorted, so equal conditions store equal JSON."""
        out: dict = {}
        if self.min_amount:
            out["min_amount"] = self.min_amount
        for key in ("skus", "categories", "channels", "stores", "weekdays", "tier_ids"):
            if getattr(self, key):
                out[key] = sorted(getattr(self, key))
        if self.hour_from is not None and self.hour_to is not None:
            out["hour_from"], out["hour_to"] = self.hour_from, self.hour_to
        if self.segment_id is not None:
            out["segment_id"] = self.segment_id
        if self.first_purchase_only:
            out["first_purchase_only"] = True
        return out

    @property
    def by_items(self) -> bool:
        return bool(self.skus or self.categories)


@dataclass(frozen=True)
class Rule:
    id: int | None
    family_id: int | None
    trigger: str
    name_fa: str = ""
    name_en: str = ""
    conditions: Conditions = Conditions()
    effect: str = "fixed"
    points: int = 0
    per_amount: int | None = None
    percent_bp: int | None = None
    use_tier_multiplier: bool = True
    cap_points: int | None = None
    cap_period: str | None = None
    budget_points: int | None = None
    points_awarded: int = 0  # of the whole family (see services.earn_rules)
    streak_bonuses: tuple[tuple[int, int], ...] = ()  # (streak day, extra points)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    campaign_id: int | None = None

    def name(self, locale: str) -> str:
        return self.name_fa if locale == "fa" else self.name_en

    @property
    def budget_left(self) -> int | None:
        if self.budget_points is None:
            return None
        return max(0, self.budget_points - self.points_awarded)


@dataclass(frozen=True)
class Item:
    sku: str | None
    category: str | None
    qty: int
    price: int

    @property
    def total(self) -> int:
        return self.qty * self.price


@dataclass(frozen=True)
class Member:
    """What the rules need to know about the member at the time of the event.
    `segment_ids`/`campaign_ids` None: unknown (the dry run has no member)."""

    tier_id: int | None = None
    tier_multiplier_bp: int = BP
    segment_ids: frozenset[int] | None = frozenset()
    campaign_ids: frozenset[int] | None = frozenset()  # campaigns whose treatment group holds them
    perk_multipliers_bp: tuple[int, ...] = ()  # challenge perks; purchases only
    first_purchase: bool = False


@dataclass(frozen=True)
class Event:
    trigger: str
    at: datetime  # aware
    amount: int = 0
    items: tuple[Item, ...] = ()
    channel: str | None = None
    store: str | None = None
    streak_day: int | None = None  # check-ins: the day of the streak this one counts as


@dataclass(frozen=True)
class Outcome:
    rule: Rule
    matched: bool
    reason: str | None = None  # one of REASONS when not matched
    points: int = 0  # after multipliers, before caps and budget
    basis: int = 0  # the amount percent/per-amount effects were computed on
    multiplier_bp: int = BP  # tier × perks applied


def _local(at: datetime, tz: str) -> datetime:
    return at.astimezone(ZoneInfo(tz))


def in_hours(cond: Conditions, local: datetime) -> bool:
    if cond.hour_from is None or cond.hour_to is None:
        return True
    h, lo, hi = local.hour, cond.hour_from, cond.hour_to
    return lo <= h < hi if lo < hi else (h >= lo or h < hi)


def window_weekday(cond: Conditions, local: datetime) -> int:
    """The weekday a moment counts for: in a window that wraps midnight (Friday
    22–2), the small hours belong to the evening the window opened on."""
    lo, hi = cond.hour_from, cond.hour_to
    if lo is not None and hi is not None and lo > hi and local.hour < hi:
        return (local - timedelta(days=1)).weekday()
    return local.weekday()


def basis_of(rule: Rule, event: Event) -> int:
    """What a percent or per-amount effect works on: the matching items' total
    when the rule is about SKUs/categories, else the whole amount."""
    cond = rule.conditions
    if not cond.by_items:
        return event.amount
    return sum(i.total for i in event.items if _item_matches(cond, i))


def _item_matches(cond: Conditions, item: Item) -> bool:
    return (item.sku is not None and item.sku in cond.skus) or (
        item.category is not None and item.category in cond.categories)


def why_not(rule: Rule, event: Event, member: Member, tz: str) -> str | None:
    """The first condition the event fails (None: it matches)."""
    cond = rule.conditions
    if rule.starts_at is not None and event.at < rule.starts_at:
        return "not_started"
    if rule.ends_at is not None and event.at >= rule.ends_at:
        return "expired"
    if rule.campaign_id is not None and (
            member.campaign_ids is None or rule.campaign_id not in member.campaign_ids):
        return "campaign"
    if cond.min_amount and event.amount < cond.min_amount:
        return "min_amount"
    if cond.by_items and not any(_item_matches(cond, i) for i in event.items):
        return "items"
    if cond.channels and event.channel not in cond.channels:
        return "channel"
    if cond.stores and event.store not in cond.stores:
        return "store"
    local = _local(event.at, tz)
    if cond.weekdays and window_weekday(cond, local) not in cond.weekdays:
        return "weekday"
    if not in_hours(cond, local):
        return "hours"
    if cond.tier_ids and member.tier_id not in cond.tier_ids:
        return "tier"
    if cond.segment_id is not None and (
            member.segment_ids is None or cond.segment_id not in member.segment_ids):
        return "segment"
    if cond.first_purchase_only and not member.first_purchase:
        return "first_purchase"
    return None


def raw_points(rule: Rule, basis: int, streak_day: int | None = None) -> int:
    """The effect before multipliers (plus a check-in's streak bonus)."""
    if rule.effect == "fixed":
        points = rule.points
    elif rule.effect == "per_amount":
        points = (basis // rule.per_amount) * rule.points if rule.per_amount else 0
    else:
        points = basis * (rule.percent_bp or 0) // BP
    if streak_day is not None:
        points += dict(rule.streak_bonuses).get(streak_day, 0)
    return max(0, points)


def multiplier_of(rule: Rule, event: Event, member: Member) -> tuple[int, ...]:
    """The multipliers (basis points) applied in order: the tier's unless the rule
    says not, then for purchases every running challenge perk."""
    factors = []
    if rule.use_tier_multiplier:
        factors.append(member.tier_multiplier_bp)
    if event.trigger == "purchase":
        factors.extend(member.perk_multipliers_bp)
    return tuple(factors)


def multiply(points: int, factors) -> int:
    for factor in factors:
        points = apply_multiplier(points, factor)
    return points


def combined_bp(factors) -> int:
    """The product of basis-point factors (for display), exact in integers."""
    total = BP
    for factor in factors:
        total = total * factor // BP
    return total


def evaluate(rules, event: Event, member: Member, tz: str) -> list[Outcome]:
    """Every rule of the event's trigger, matched or not, with its points."""
    outcomes = []
    for rule in rules:
        if rule.trigger != event.trigger:
            continue
        reason = why_not(rule, event, member, tz)
        if reason is not None:
            outcomes.append(Outcome(rule, False, reason))
            continue
        basis = basis_of(rule, event)
        factors = multiplier_of(rule, event, member)
        points = multiply(raw_points(rule, basis, event.streak_day), factors)
        if points <= 0:
            outcomes.append(Outcome(rule, False, "zero_points", basis=basis))
            continue
        outcomes.append(Outcome(rule, True, None, points, basis, combined_bp(factors)))
    return outcomes


def base_points(points: int, member: Member, *, purchase: bool = True) -> tuple[int, tuple[int, ...]]:
    """The club's base earn rate after the tier multiplier and (purchases) perks."""
    factors = (member.tier_multiplier_bp, *(member.perk_multipliers_bp if purchase else ()))
    return multiply(points, factors), factors


# -- caps -------------------------------------------------------------------------


def cap_window(period: str, at: datetime, tz: str) -> tuple[datetime | None, datetime | None]:
    """[start, end) of the club-local calendar period holding `at`, as aware
    datetimes; (None, None) for "ever". Weeks start on Saturday, months are
    Jalali months (the calendar members see)."""
    if period == "ever":
        return None, None
    zone = ZoneInfo(tz)
    day = _local(at, tz).date()
    if period == "day":
        start, end = day, day + timedelta(days=1)
    elif period == "week":
        start = day - timedelta(days=(day.weekday() - WEEK_STARTS) % 7)
        end = start + timedelta(days=7)
    elif period == "month":
        j = jdatetime.date.fromgregorian(date=day)
        start = jdatetime.date(j.year, j.month, 1).togregorian()
        ny, nm = (j.year + 1, 1) if j.month == 12 else (j.year, j.month + 1)
        end = jdatetime.date(ny, nm, 1).togregorian()
    else:
        raise ValueError(f"unknown cap period {period!r}")
    return _midnight(start, zone), _midnight(end, zone)


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


def capped(points: int, *, cap_points: int | None, used: int, budget_left: int | None) -> int:
    """What may be awarded of `points`: the member's room under the cap and the
    family's room under the budget, whichever is smaller."""
    room = points
    if cap_points is not None:
        room = min(room, cap_points - used)
    if budget_left is not None:
        room = min(room, budget_left)
    return max(0, room)


# -- checking what staff design -------------------------------------------------------


def check_rule(rule: Rule) -> dict[str, str]:
    """Problems by field name, in plain English (empty when the rule is valid)."""
    problems: dict[str, str] = {}
    cond = rule.conditions
    if rule.trigger not in RULE_TRIGGERS:
        problems["trigger"] = "Unknown trigger."
    if not rule.name_fa.strip() or not rule.name_en.strip():
        problems["name_en" if not rule.name_en.strip() else "name_fa"] = "A name in both languages."
    if rule.effect not in RULE_EFFECTS:
        problems["effect"] = "Unknown effect."
    elif rule.effect == "percent":
        if not rule.percent_bp or not 0 < rule.percent_bp <= MAX_PERCENT_BP:
            problems["percent"] = "A percent above 0, at most 100."
    else:
        if not 0 < rule.points <= MAX_POINTS:
            problems["points"] = "Points from 1 to 10,000,000."
        if rule.effect == "per_amount" and not (rule.per_amount and rule.per_amount > 0):
            problems["per_amount"] = "The money step must be at least 1."
    if rule.effect != "fixed" and rule.trigger != "purchase":
        problems["effect"] = "Only purchases have an amount: use fixed points."
    purchase_only = (cond.min_amount or cond.by_items or cond.channels or cond.stores
                     or cond.first_purchase_only)
    if purchase_only and rule.trigger != "purchase":
        problems["trigger"] = "Amount, item, channel, store and first-purchase conditions need the purchase trigger."
    if (cond.hour_from is None) != (cond.hour_to is None):
        problems["hour_to"] = "Give both ends of the hour window, or neither."
    elif cond.hour_from is not None:
        if not (0 <= cond.hour_from <= 23 and 0 <= cond.hour_to <= 24) or cond.hour_from == cond.hour_to:
            problems["hour_to"] = "Hours 0 to 24, and the window cannot be empty."
    if any(d not in range(7) for d in cond.weekdays):
        problems["weekdays"] = "Unknown weekday."
    for key in ("skus", "categories", "channels", "stores"):
        if len(getattr(cond, key)) > LIST_LIMIT:
            problems[key] = f"At most {LIST_LIMIT}."
    if (rule.cap_points is None) != (rule.cap_period is None):
        problems["cap_points"] = "A cap needs both the points and the period."
    elif rule.cap_points is not None and (rule.cap_points <= 0 or rule.cap_period not in CAP_PERIODS):
        problems["cap_points"] = "A cap of at least 1 point per day, week, month or ever."
    if rule.budget_points is not None and rule.budget_points < max(1, rule.points_awarded):
        problems["budget_points"] = "The budget cannot be below what the rule has already given."
    if rule.starts_at and rule.ends_at and rule.ends_at <= rule.starts_at:
        problems["ends_at"] = "The end must be after the start."
    if rule.streak_bonuses and rule.trigger != "checkin":
        problems["streak_bonuses"] = "Streak bonuses belong to check-in rules."
    if any(day < 1 or pts < 1 or pts > MAX_POINTS for day, pts in rule.streak_bonuses):
        problems["streak_bonuses"] = "Days and points must be at least 1."
    return problems


def next_bonus(rule: Rule, streak: int) -> tuple[int, int] | None:
    """(streak day, points) of the next bonus after `streak` days, if any."""
    ahead = sorted((day, pts) for day, pts in rule.streak_bonuses if day > streak)
    return ahead[0] if ahead else None

