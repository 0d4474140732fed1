"""Earn rules designed by staff: their lifecycle (draft → active → ended, a new
version for every change to a rule in use) and applying them to events.

Matching is pure (`rule_engine`); here the tables feed it, and awards respect
caps and budgets under concurrency:
- per-member caps: `ledger.lock_member` first, so one member's events award one
  at a time and the cap sum read after the lock is the truth;
- the family budget: a guarded UPDATE of the counter that can never pass it.

Budget across versions: the counter (`points_awarded`) lives on the family's
*active* version and is the family's total. Making version n+1 locks version n,
copies its counter and ends it in one transaction; an award racing with it
finds version n no longer active and gives nothing (its event came as the rule
changed). Ended versions keep the total as it stood when they ended."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from types import MappingProxyType

from sqlalchemy import case, func, insert, or_, select, update
from sqlalchemy.orm import Session

from webapp.models import RULE_TRIGGERS, EarnRule, Member, Purchase, RuleAward
from webapp.services import config_cache, ledger, tiers
from webapp.services.errors import Conflict, NotFound, ProblemsInvalid
from webapp.services.members import audit
from webapp.services.offers import campaigns, challenges, rule_engine, segments
from webapp.services.offers.rule_engine import BP
from webapp.services.settings import load_earn_settings

SPEC_FIELDS = (
    "name_fa", "name_en", "trigger", "conditions", "effect", "points", "per_amount", "percent_bp",
    "use_tier_multiplier", "cap_points", "cap_period", "budget_points", "streak_bonuses",
    "starts_at", "ends_at", "campaign_id",
)


class RuleInvalid(ProblemsInvalid):
    """The rule is not valid."""

    code = "rule_invalid"



class RuleStateConflict(Conflict):
    """The rule is not in a state that allows this (someone may have changed it)."""

    code = "rule_state"


# -- rows <-> the engine ----------------------------------------------------------------


def engine_rule(row: EarnRule) -> rule_engine.Rule:
    return rule_engine.Rule(
        id=row.id, family_id=row.family_id or row.id, trigger=row.trigger, name_fa=row.name_fa,
        name_en=row.name_en, conditions=rule_engine.Conditions.from_dict(row.conditions),
        effect=row.effect, points=row.points, per_amount=row.per_amount, percent_bp=row.percent_bp,
        use_tier_multiplier=row.use_tier_multiplier, cap_points=row.cap_points,
        cap_period=row.cap_period, budget_points=row.budget_points,
        points_awarded=row.points_awarded,
        streak_bonuses=tuple(sorted((int(k), int(v)) for k, v in (row.streak_bonuses or {}).items())),
        starts_at=row.starts_at, ends_at=row.ends_at, campaign_id=row.campaign_id,
    )


def _spec_of(rule: rule_engine.Rule) -> dict:
    """Column values of a rule as staff design it."""
    return {
        "name_fa": rule.name_fa.strip(), "name_en": rule.name_en.strip(), "trigger": rule.trigger,
        "conditions": rule.conditions.to_dict(), "effect": rule.effect,
        "points": rule.points if rule.effect != "percent" else 0,
        "per_amount": rule.per_amount if rule.effect == "per_amount" else None,
        "percent_bp": rule.percent_bp if rule.effect == "percent" else None,
        "use_tier_multiplier": rule.use_tier_multiplier, "cap_points": rule.cap_points,
        "cap_period": rule.cap_period if rule.cap_points is not None else None,
        "budget_points": rule.budget_points,
        "streak_bonuses": {str(d): p for d, p in rule.streak_bonuses} or None,
        "starts_at": rule.starts_at, "ends_at": rule.ends_at, "campaign_id": rule.campaign_id,
    }


def snapshot(row: EarnRule) -> dict:
    """JSON-safe view of a version for the audit log."""
    out = {name: getattr(row, name) for name in SPEC_FIELDS}
    for name in ("starts_at", "ends_at"):
        out[name] = out[name].isoformat() if out[name] else None
    out.update(id=row.id, family_id=row.family_id, version=row.version, status=row.status,
               points_awarded=row.points_awarded)
    return out


def _validate(rule: rule_engine.Rule) -> None:
    problems = rule_engine.check_rule(rule)
    if problems:
        raise RuleInvalid(problems)


# -- the designer's operations (flush, never commit) --------------------------------------


def get_rule(session: Session, rule_id: int, *, lock: bool = False) -> EarnRule:
    query = select(EarnRule).where(EarnRule.id == rule_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    row = session.scalar(query)
    if row is None:
        raise NotFound("Rule not found.", rule_id=rule_id)
    return row


def create_rule(session: Session, rule: rule_engine.Rule, *, actor: audit.Actor,
                now: datetime) -> EarnRule:
    """A new rule family, as a draft (version 1)."""
    _validate(replace(rule, points_awarded=0))
    row = EarnRule(**_spec_of(rule), version=1, status="draft", created_by=actor.label,
                   created_at=now)
    session.add(row)
    session.flush()
    row.family_id = row.id
    session.flush()
    audit.record(session, actor, "rule.create", "earn_rule", row.id, now=now, after=snapshot(row))
    return row


def edit_draft(session: Session, rule_id: int, rule: rule_engine.Rule, *, actor: audit.Actor,
               now: datetime) -> EarnRule:
    """A draft is edited in place: nothing has used it yet."""
    row = get_rule(session, rule_id, lock=True)
    if row.status != "draft":
        raise RuleStateConflict(status=row.status)
    _validate(replace(rule, points_awarded=0))
    before = snapshot(row)
    for name, value in _spec_of(rule).items():
        setattr(row, name, value)
    session.flush()
    audit.record(session, actor, "rule.edit", "earn_rule", row.id, now=now, before=before,
                 after=snapshot(row))
    return row


def activate_rule(session: Session, rule_id: int, *, actor: audit.Actor, now: datetime) -> EarnRule:
    row = get_rule(session, rule_id, lock=True)
    if row.status != "draft":
        raise RuleStateConflict(status=row.status)
    _validate(engine_rule(row))
    before = snapshot(row)
    row.status, row.activated_at = "active", now
    session.flush()
    audit.record(session, actor, "rule.activate", "earn_rule", row.id, now=now, before=before,
                 after=snapshot(row))
    return row


def revise_rule(session: Session, rule_id: int, rule: rule_engine.Rule, *, actor: audit.Actor,
                now: datetime) -> EarnRule:
    """Change an active rule: version n+1 becomes active with the family's
    awarded total, version n ends (see the module note on budgets)."""
    old = get_rule(session, rule_id, lock=True)
    if old.status != "active":
        raise RuleStateConflict(status=old.status)
    spec = _spec_of(rule)
    spec["trigger"] = old.trigger  # awards and caps of a family are about one trigger
    _validate(replace(rule, trigger=old.trigger, points_awarded=old.points_awarded))
    before = snapshot(old)
    old.status, old.ended_at = "ended", now
    new = EarnRule(**spec, family_id=old.family_id, version=old.version + 1, status="active",
                   points_awarded=old.points_awarded, created_by=actor.label, created_at=now,
                   activated_at=now)
    session.add(new)
    session.flush()
    audit.record(session, actor, "rule.version", "earn_rule", new.id, now=now, before=before,
                 after=snapshot(new))
    return new


def end_rule(session: Session, rule_id: int, *, actor: audit.Actor, now: datetime) -> EarnRule:
    """End an active rule (or discard a draft): it gives nothing from now on."""
    row = get_rule(session, rule_id, lock=True)
    if row.status == "ended":
        raise RuleStateConflict(status=row.status)
    before = snapshot(row)
    row.status, row.ended_at = "ended", now
    session.flush()
    audit.record(session, actor, "rule.end", "earn_rule", row.id, now=now, before=before,
                 after=snapshot(row))
    return row


def list_rules(session: Session) -> list[EarnRule]:
    """Every version, newest family first, versions in order (for the list and history)."""
    return list(session.scalars(
        select(EarnRule).order_by(EarnRule.family_id.desc(), EarnRule.version.desc())))


def family_versions(session: Session, family_id: int) -> list[EarnRule]:
    return list(session.scalars(
        select(EarnRule).where(EarnRule.family_id == family_id).order_by(EarnRule.version.desc())))


def active_rules(session: Session, trigger: str | None = None) -> list[EarnRule]:
    query = select(EarnRule).where(EarnRule.status == "active")
    if trigger is not None:
        query = query.where(EarnRule.trigger == trigger)
    return list(session.scalars(query.order_by(EarnRule.id)))


def live_rules(session: Session, trigger: str) -> tuple[rule_engine.Rule, ...]:
    """The active rules of `trigger`, compiled, cached per configuration version
    (`config_cache`): every purchase and check-in asks. Their `points_awarded`
    is as of that version (awards move it without a new one): budgets are
    enforced by `_spend_budget`'s guarded UPDATE, never from this copy."""
    return config_cache.cached(session, "live_earn_rules", _compile_active).get(trigger, ())


def _compile_active(session: Session) -> dict[str, tuple[rule_engine.Rule, ...]]:
    by_trigger: dict[str, list[rule_engine.Rule]] = {}
    for row in active_rules(session):
        by_trigger.setdefault(row.trigger, []).append(engine_rule(row))
    return MappingProxyType({t: tuple(rules) for t, rules in by_trigger.items()})


# -- applying rules to events ------------------------------------------------------------


def member_facts(session: Session, member: Member, rules, *, now: datetime, purchase: bool,
                 level=None, first_purchase: bool = False, perks=None) -> rule_engine.Member:
    """What the rules need to know about the member: their tier, which segments
    and campaign groups the rules ask about (one segment call for all), perks."""
    if level is None:
        level = tiers.member_level(session, member)
    segment_ids = {r.conditions.segment_id for r in rules if r.conditions.segment_id is not None}
    campaign_ids = {r.campaign_id for r in rules if r.campaign_id is not None}
    in_segments = segments.member_ids_in(session, sorted(segment_ids), member.id, now) if segment_ids else set()
    treated = {c for c in campaign_ids if campaigns.in_treatment(session, c, member.id)}
    if perks is None:
        perks = challenges.earn_perks(session, member.id, now) if purchase else []
    return rule_engine.Member(
        tier_id=level.id if level else None,
        tier_multiplier_bp=level.earn_multiplier_bp if level else BP,
        segment_ids=frozenset(in_segments), campaign_ids=frozenset(treated),
        perk_multipliers_bp=tuple(p.multiplier_bp for p in perks), first_purchase=first_purchase,
    )


def _spend_budget(session: Session, rule_id: int, points: int) -> int:
    """Take up to `points` from the family budget; returns what was granted.
    The guarded UPDATE can never pass the budget; when the whole amount does not
    fit, what is left is taken (re-read after each refusal: others may spend too)."""
    while points > 0:
        spent = session.execute(
            update(EarnRule)
            .where(EarnRule.id == rule_id, EarnRule.status == "active",
                   or_(EarnRule.budget_points.is_(None),
                       EarnRule.points_awarded + points <= EarnRule.budget_points))
            .values(points_awarded=EarnRule.points_awarded + points)
            .returning(EarnRule.id)
            # rows loaded in this session (staff pages, tests) learn the new total
            # through RETURNING: no statement more
            .execution_options(synchronize_session="fetch")
        ).first()
        if spent is not None:
            return points
        row = session.execute(
            select(EarnRule.status, EarnRule.budget_points, EarnRule.points_awarded)
            .where(EarnRule.id == rule_id)).one()
        if row.status != "active" or row.budget_points is None:
            return 0  # ended (or re-versioned) while this event was on its way
        points = min(points, row.budget_points - row.points_awarded)
    return 0


def _used_in_window(session: Session, rule: rule_engine.Rule, member_id: int, now: datetime,
                    tz: str) -> int:
    start, end = rule_engine.cap_window(rule.cap_period, now, tz)
    query = select(func.coalesce(func.sum(RuleAward.points), 0)).where(
        RuleAward.family_id == rule.family_id, RuleAward.member_id == member_id)
    if start is not None:
        query = query.where(RuleAward.created_at >= start, RuleAward.created_at < end)
    return int(session.scalar(query))  # int(): PostgreSQL sums BIGINT as NUMERIC


def multiplier_text(bp: int) -> str:
    """10000 → "1", 15000 → "1.5" (exact, no floats)."""
    text = str(bp // BP)
    if bp % BP:
        text += "." + f"{bp % BP:04d}".rstrip("0")
    return text


def _description(rule: rule_engine.Rule, tier_bp: int, perk_bp: int, tier_name: str | None) -> str:
    """English for staff and logs: "Weekend double points × Gold 1.5"."""
    text = rule.name_en
    if tier_bp != BP and tier_name:
        text += f" × {tier_name} {multiplier_text(tier_bp)}"
    if perk_bp != BP:
        text += f" × {multiplier_text(perk_bp)}"
    return text


@dataclass(frozen=True)
class Grant:
    """A rule's award to one event, capped and taken from its budget, not yet posted."""

    rule: rule_engine.Rule
    points: int
    tier_id: int | None
    tier_bp: int
    perk_bp: int
    description: str

    def key(self, event_key: str) -> str:
        return f"{event_key}:rule:{self.rule.family_id}"


def plan_awards(
    session: Session, *, member: Member, event: rule_engine.Event, event_key: str | None, now: datetime,
    tz: str, rules: tuple[rule_engine.Rule, ...], facts: rule_engine.Member, member_locked: bool = False,
) -> list[Grant]:
    """Every rule that matches the event, capped, its points taken from its
    budget (one UPDATE for all of them). `event_key` None: the event is born in
    this transaction (a purchase about to be inserted), so nothing was awarded
    for it yet."""
    outcomes = [o for o in rule_engine.evaluate(rules, event, facts, tz) if o.matched]
    if not outcomes:
        return []
    if not member_locked:
        ledger.lock_member(session, member.id)  # serialises this member's caps
    done = set() if event_key is None else set(session.scalars(select(RuleAward.family_id).where(
        RuleAward.event_key == event_key,
        RuleAward.family_id.in_([o.rule.family_id for o in outcomes]))))
    wanted: dict[int, tuple[rule_engine.Rule, int]] = {}
    for outcome in outcomes:
        rule = outcome.rule
        if rule.family_id in done:
            continue  # a replayed event earns nothing more
        used = _used_in_window(session, rule, member.id, now, tz) if rule.cap_points else 0
        points = rule_engine.capped(outcome.points, cap_points=rule.cap_points, used=used, budget_left=None)
        if points > 0:
            wanted[rule.id] = (rule, points)
    granted = _spend_budgets(session, {rule_id: points for rule_id, (_r, points) in wanted.items()})
    tier_name = None
    if facts.tier_id is not None:
        program = tiers.load_program(session)  # cached: no query for the tier's name
        tier_name = next((lv.name_en for lv in program.levels if lv.id == facts.tier_id), None) if program else None
    perk_bp = rule_engine.combined_bp(facts.perk_multipliers_bp) if event.trigger == "purchase" else BP
    grants = []
    for rule_id, (rule, _points) in wanted.items():
        points = granted.get(rule_id, 0)
        if points <= 0:
            continue
        tier_bp = facts.tier_multiplier_bp if rule.use_tier_multiplier else BP
        grants.append(Grant(rule, points, facts.tier_id if tier_bp != BP else None, tier_bp, perk_bp,
                            _description(rule, tier_bp, perk_bp, tier_name)))
    return grants


def _spend_budgets(session: Session, points_by_rule: dict[int, int]) -> dict[int, int]:
    """`_spend_budget` for several rules in one guarded UPDATE when each fits;
    a rule whose whole amount does not fit takes what is left, on its own."""
    if not points_by_rule:
        return {}
    amount = case(points_by_rule, value=EarnRule.id, else_=0)
    spent = set(session.scalars(
        update(EarnRule)
        .where(EarnRule.id.in_(list(points_by_rule)), EarnRule.status == "active",
               or_(EarnRule.budget_points.is_(None), EarnRule.points_awarded + amount <= EarnRule.budget_points))
        .values(points_awarded=EarnRule.points_awarded + amount)
        .returning(EarnRule.id)
        .execution_options(synchronize_session="fetch")))
    return {rule_id: points if rule_id in spent else _spend_budget(session, rule_id, points)
            for rule_id, points in points_by_rule.items()}


def record_awards(session: Session, grants: list[Grant], *, member_id: int, event_key: str,
                  entry_ids: dict[str, int], now: datetime) -> list[RuleAward]:
    """The RuleAward rows of grants whose entries were posted now, in one INSERT
    (the ORM's flush sends one per row on SQLite). Returned detached, as written."""
    rows = [
        {"rule_id": g.rule.id, "family_id": g.rule.family_id, "member_id": member_id, "event_key": event_key,
         "points": g.points, "entry_id": entry_ids[g.key(event_key)], "tier_id": g.tier_id,
         "tier_multiplier_bp": g.tier_bp, "perk_multiplier_bp": g.perk_bp, "created_at": now}
        for g in grants if g.key(event_key) in entry_ids]
    if not rows:
        return []
    table = RuleAward.__table__  # executemany: one INSERT, its compiled form cached
    ids = dict(session.execute(insert(table).returning(table.c.entry_id, table.c.id), rows).all())
    return [RuleAward(id=ids[row["entry_id"]], **row) for row in rows]


def apply_rules(
    session: Session, *, member: Member, event: rule_engine.Event, event_key: str, now: datetime,
    tz: str, rules: tuple[rule_engine.Rule, ...] | None = None, facts: rule_engine.Member | None = None,
    level=None, created_by: str = "system",
) -> list[RuleAward]:
    """Award every active rule of the event's trigger that matches, each capped
    and within its budget. Returns the RuleAward rows made (none for replays)."""
    rules = live_rules(session, event.trigger) if rules is None else rules
    if not rules:
        return []
    if facts is None:
        facts = member_facts(session, member, rules, now=now, purchase=event.trigger == "purchase",
                             level=level)
    grants = plan_awards(session, member=member, event=event, event_key=event_key, now=now, tz=tz,
                         rules=rules, facts=facts)
    if not grants:
        return []
    settings = load_earn_settings(session)
    expires = now + timedelta(days=settings.points_expiry_days) if settings.points_expiry_days else None
    entry_ids, _row = ledger.award_points_together(
        session, member.id, [ledger.Earning(g.points, g.key(event_key), ("earn_rule", g.rule.id), g.description)
                             for g in grants], now=now, expires_at=expires, created_by=created_by)
    return record_awards(session, grants, member_id=member.id, event_key=event_key, entry_ids=entry_ids, now=now)


def award_for_event(
    session: Session, *, member_id: int, trigger: str, event_key: str, now: datetime,
    context: dict | None = None, created_by: str = "system", tz: str | None = None,
) -> list:
    """Apply every active rule of `trigger` that matches; one ledger entry per rule,
    keyed by the rule family and `event_key` (a replayed event earns nothing more).
    `context` may give `at` (when it happened; default now), `amount`, `items`,
    `channel`, `store`, `streak_day`. Returns the RuleAward rows made."""
    if trigger not in RULE_TRIGGERS:
        raise ValueError(f"unknown trigger {trigger!r}")
    rules = live_rules(session, trigger)
    if not rules:
        return []
    member = session.get(Member, member_id)
    if member is None:
        raise NotFound("Member not found.", member_id=member_id)
    if not member.is_active:
        return []
    context = context or {}
    event = rule_engine.Event(
        trigger=trigger, at=context.get("at") or now, amount=int(context.get("amount") or 0),
        items=tuple(rule_engine.Item(i.sku, i.category, i.qty, i.price)
                    for i in context.get("items") or ()),
        channel=context.get("channel"), store=context.get("store"),
        streak_day=context.get("streak_day"),
    )
    return apply_rules(session, member=member, event=event, event_key=event_key, now=now,
                       tz=tiers.club_timezone(tz), rules=rules, created_by=created_by)


def plan_purchase_rules(session: Session, *, member: Member, amount: int, occurred_at: datetime, items,
                        channel: str | None, store: str | None, level, perks, now: datetime,
                        tz: str | None = None) -> list[Grant]:
    """The designer rules' part of a purchase about to be recorded (the base rate
    is `purchases`' own entry), budgets already taken; the caller holds the
    member's row lock and posts the grants with the base rate. `perks` are the
    member's challenge perks, already read for the base."""
    rules = live_rules(session, "purchase")
    if not rules:
        return []
    first = any(r.conditions.first_purchase_only for r in rules) and session.scalar(
        select(Purchase.id).where(Purchase.member_id == member.id).limit(1)) is None
    facts = member_facts(session, member, rules, now=now, purchase=True, level=level,
                         first_purchase=first, perks=perks)
    event = rule_engine.Event(
        trigger="purchase", at=occurred_at, amount=amount,
        items=tuple(rule_engine.Item(i.sku, i.category, i.qty, i.price) for i in items),
        channel=channel, store=store)
    return plan_awards(session, member=member, event=event, event_key=None, now=now,
                       tz=tiers.club_timezone(tz), rules=rules, facts=facts, member_locked=True)


# -- profile completed ---------------------------------------------------------------------


def profile_complete(member: Member) -> bool:
    return bool((member.display_name or "").strip() and member.email and member.mobile
                and member.birthday)


def on_profile_saved(session: Session, member: Member, *, was_complete: bool,
                     now: datetime) -> list:
    """The profile-completed trigger, when a save completes it (once ever: the key)."""
    if was_complete or not profile_complete(member):
        return []
    session.flush()
    return award_for_event(session, member_id=member.id, trigger="profile_completed",
                           event_key=f"profile_completed:{member.id}", now=now)


# -- the dry run -------------------------------------------------------------------------


@dataclass(frozen=True)
class DryRun:
    base: int
    outcomes: list  # rule_engine.Outcome, matched first


def dry_run(session: Session, event: rule_engine.Event, *, tier_id: int | None,
            first_purchase: bool, tz: str | None = None) -> DryRun:
    """What a sample purchase would earn now; reads only. Segment and campaign
    conditions depend on a real member, so they show as not checked."""
    program = tiers.load_program(session)
    level = None
    if program is not None:
        level = next((lv for lv in program.levels if lv.id == tier_id), program.levels[0])
    facts = rule_engine.Member(
        tier_id=level.id if level else None,
        tier_multiplier_bp=level.earn_multiplier_bp if level else BP,
        segment_ids=None, campaign_ids=None, first_purchase=first_purchase)
    settings = load_earn_settings(session)
    base, _factors = rule_engine.base_points(settings.points_for(event.amount), facts)
    rules = list(live_rules(session, "purchase"))
    outcomes = rule_engine.evaluate(rules, event, facts, tiers.club_timezone(tz))
    outcomes.sort(key=lambda o: (not o.matched, o.rule.id))
    return DryRun(base=base, outcomes=outcomes)
