"""Challenges: the commitment model. Staff set a goal over a period (purchases,
spend net of refunds, or distinct categories bought) and a deal (an earn
multiplier while enrolled and/or a reward on completion); members opt in.

Progress is always recomputed from the member's purchases (never incremented),
so replays and refunds stay right. Completion is guarded three ways: the entry
row is locked while progress is counted, `completed_at` is set by a guarded
UPDATE, and every reward has an idempotency key. A refund after completion takes
nothing back; falling short just ends the perk at `ends_at`."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, replace
from datetime import datetime

from sqlalchemy import and_, case, func, select, update
from sqlalchemy.orm import Session

from webapp.db import insert_ignoring_duplicates
from webapp.models import (
    Challenge,
    ChallengeEntry,
    Member,
    Purchase,
    PurchaseItem,
    Reward,
    Segment,
    Tier,
)
from webapp.services import messages, tiers
from webapp.services.errors import Conflict, DomainError, MemberNotActive, NotFound, ProblemsInvalid
from webapp.services.members import audit
from webapp.services.offers import segments
from webapp.services.offers.challenge_recount import (
    recount_after_purchase,
    running_at,
    window_start,
)
from webapp.services.play import prizes

log = logging.getLogger(__name__)

BP = 10_000
MAX_MULTIPLIER_BP = 100_000  # ×10, the same ceiling as tier multipliers
MAX_GOAL = 10**15
MAX_REWARD_POINTS = 10_000_000
MAX_CATEGORIES = 50
MAX_NAME = 120
# a row named by id that no longer exists, by field
GONE = {"min_tier_id": "tier_gone", "segment_id": "segment_gone", "reward_id": "reward_gone"}
# what members have committed to: fixed once anyone has joined
LOCKED_FIELDS = ("metric", "goal", "categories", "starts_at", "ends_at", "perk_multiplier_bp",
                 "reward_points", "reward_id")


class ChallengeInvalid(ProblemsInvalid):
    """The challenge is not valid."""

    code = "challenge_invalid"


class ChallengeLocked(Conflict):
    """Members have joined: the goal, period and deal can no longer change."""

    code = "challenge_locked"


class ChallengeWrongStatus(Conflict):
    """The challenge is not in a state that allows this."""

    code = "challenge_wrong_status"


class ChallengeNotOpen(DomainError):
    """This challenge is not open for joining."""

    code = "challenge_not_open"
    status = 409


class NotEligible(DomainError):
    """The member may not join this challenge."""

    code = "challenge_not_eligible"
    status = 403


@dataclass(frozen=True)
class Perk:
    multiplier_bp: int  # 15000 = ×1.5
    name_en: str
    challenge_id: int = 0


@dataclass(frozen=True)
class ChallengeSpec:
    """What staff define; dates are UTC instants (the admin form converts the
    club-local days)."""

    name_fa: str
    name_en: str
    metric: str
    goal: int
    starts_at: datetime
    ends_at: datetime
    description_fa: str | None = None
    description_en: str | None = None
    categories: tuple[str, ...] | None = None
    min_tier_id: int | None = None
    segment_id: int | None = None
    perk_multiplier_bp: int | None = None
    reward_points: int | None = None
    reward_id: int | None = None

    @classmethod
    def of(cls, challenge: Challenge) -> ChallengeSpec:
        return cls(**{name: getattr(challenge, name) for name in cls.__dataclass_fields__
                      if name != "categories"},
                   categories=tuple(challenge.categories) if challenge.categories else None)


def normalise_category(name: str) -> str:
    return " ".join(name.split()).casefold()


# -- staff: define, activate, end ---------------------------------------------------------


def check_spec(session: Session, spec: ChallengeSpec) -> dict[str, str]:
    """Problems as field -> code; empty when valid."""
    problems: dict[str, str] = {}
    if not (spec.name_fa or "").strip() or not (spec.name_en or "").strip():
        problems["name"] = "names_required"
    elif max(len(spec.name_fa), len(spec.name_en)) > MAX_NAME:
        problems["name"] = "name_too_long"
    if spec.metric not in ("purchase_count", "spend", "categories"):
        problems["metric"] = "unknown_challenge_metric"
    if not isinstance(spec.goal, int) or not 0 < spec.goal <= MAX_GOAL:
        problems["goal"] = "goal_range"
    if spec.starts_at is None or spec.ends_at is None or spec.ends_at <= spec.starts_at:
        problems["ends_at"] = "last_day_before_first"
    categories = spec.categories or ()
    if categories and spec.metric != "categories":
        problems["categories"] = "categories_unused"
    elif len(categories) > MAX_CATEGORIES:
        problems["categories"] = "too_many_categories"
    elif categories and "goal" not in problems and spec.goal > len(categories):
        problems["goal"] = "goal_above_categories"
    perk = spec.perk_multiplier_bp
    if perk is not None and not BP < perk <= MAX_MULTIPLIER_BP:
        problems["perk_multiplier_bp"] = "perk_range"
    if spec.reward_points is not None and not 0 < spec.reward_points <= MAX_REWARD_POINTS:
        problems["reward_points"] = "reward_points_range"
    if perk is None and spec.reward_points is None and spec.reward_id is None:
        problems["deal"] = "deal_required"
    for field, model, value in (("min_tier_id", Tier, spec.min_tier_id),
                                ("segment_id", Segment, spec.segment_id),
                                ("reward_id", Reward, spec.reward_id)):
        if value is not None and session.get(model, value) is None:
            problems[field] = GONE[field]
    return problems


def _normalised(spec: ChallengeSpec) -> ChallengeSpec:
    categories = sorted({normalise_category(c) for c in spec.categories or () if c.strip()})
    return replace(
        spec, name_fa=(spec.name_fa or "").strip(), name_en=(spec.name_en or "").strip(),
        description_fa=(spec.description_fa or "").strip() or None,
        description_en=(spec.description_en or "").strip() or None,
        categories=tuple(categories) or None,
    )


def _checked_values(session: Session, spec: ChallengeSpec) -> dict:
    """The columns for a valid spec (ChallengeInvalid otherwise)."""
    spec = _normalised(spec)
    problems = check_spec(session, spec)
    if problems:
        raise ChallengeInvalid(problems)
    values = asdict(spec)
    values["categories"] = list(spec.categories) if spec.categories else None
    return values


def _snapshot(challenge: Challenge) -> dict:
    data = {name: getattr(challenge, name) for name in ChallengeSpec.__dataclass_fields__}
    data["starts_at"], data["ends_at"] = challenge.starts_at.isoformat(), challenge.ends_at.isoformat()
    data["status"] = challenge.status
    return data


def create_challenge(session: Session, spec: ChallengeSpec, *, actor: audit.Actor, now: datetime) -> Challenge:
    values = _checked_values(session, spec)
    challenge = Challenge(**values, status="draft", created_by=actor.label[:64], created_at=now)
    session.add(challenge)
    session.flush()
    audit.record(session, actor, "challenge.create", "challenge", challenge.id, now=now,
                 after=_snapshot(challenge))
    return challenge


def entry_count(session: Session, challenge_id: int) -> int:
    return session.scalar(select(func.count()).select_from(ChallengeEntry)
                          .where(ChallengeEntry.challenge_id == challenge_id)) or 0


def _locked(session: Session, challenge_id: int) -> Challenge:
    challenge = session.scalar(select(Challenge).where(Challenge.id == challenge_id)
                               .with_for_update().execution_options(populate_existing=True))
    if challenge is None:
        raise NotFound("Challenge not found.", challenge_id=challenge_id)
    return challenge


def update_challenge(session: Session, challenge_id: int, spec: ChallengeSpec, *,
                     actor: audit.Actor, now: datetime) -> Challenge:
    """Change a challenge that has not ended. Once anyone has joined, only the
    texts and who may still join can change (ChallengeLocked otherwise)."""
    challenge = _locked(session, challenge_id)
    if challenge.status == "ended":
        raise ChallengeWrongStatus("An ended challenge cannot be edited.", status=challenge.status)
    values = _checked_values(session, spec)
    changed = {k: v for k, v in values.items() if getattr(challenge, k) != v}
    if not changed:
        return challenge
    if set(changed) & set(LOCKED_FIELDS) and entry_count(session, challenge_id):
        raise ChallengeLocked(fields=sorted(set(changed) & set(LOCKED_FIELDS)))
    before = _snapshot(challenge)
    for key, value in changed.items():
        setattr(challenge, key, value)
    session.flush()
    after = _snapshot(challenge)
    audit.record(session, actor, "challenge.update", "challenge", challenge.id, now=now,
                 before={k: before[k] for k in changed}, after={k: after[k] for k in changed})
    return challenge


def activate_challenge(session: Session, challenge_id: int, *, actor: audit.Actor, now: datetime) -> Challenge:
    """Draft → active: members can see and join it (before it starts, too)."""
    challenge = _locked(session, challenge_id)
    if challenge.status != "draft":
        raise ChallengeWrongStatus("Only a draft can be activated.", status=challenge.status)
    if challenge.ends_at <= now:
        raise ChallengeWrongStatus("The challenge's period is over.", status=challenge.status)
    challenge.status = "active"
    session.flush()
    audit.record(session, actor, "challenge.activate", "challenge", challenge.id, now=now,
                 before={"status": "draft"}, after={"status": "active"})
    return challenge


def end_challenge(session: Session, challenge_id: int, *, actor: audit.Actor, now: datetime,
                  reason: str | None = None) -> Challenge:
    """Stop a challenge now: no more joining, progress or perks. What members
    earned stays theirs."""
    challenge = _locked(session, challenge_id)
    if challenge.status == "ended":
        raise ChallengeWrongStatus("The challenge has already ended.", status=challenge.status)
    before = challenge.status
    challenge.status = "ended"
    session.flush()
    audit.record(session, actor, "challenge.end", "challenge", challenge.id, now=now,
                 before={"status": before}, after={"status": "ended"}, reason=reason)
    return challenge


@dataclass(frozen=True)
class ChallengeStats:
    joined: int = 0
    completed: int = 0
    rewards_missing: int = 0  # completed with a catalog reward that could not be granted


def challenge_stats(session: Session, challenge_ids) -> dict[int, ChallengeStats]:
    """Entries per challenge, one grouped query."""
    ids = list(challenge_ids)
    if not ids:
        return {}
    done = ChallengeEntry.completed_at.is_not(None)
    rows = session.execute(
        select(ChallengeEntry.challenge_id, func.count(),
               func.sum(case((done, 1), else_=0)),
               func.sum(case((and_(done, Challenge.reward_id.is_not(None), ChallengeEntry.coupon_id.is_(None)),
                              1), else_=0)))
        .join(Challenge, Challenge.id == ChallengeEntry.challenge_id)
        .where(ChallengeEntry.challenge_id.in_(ids)).group_by(ChallengeEntry.challenge_id)
    ).all()
    return {cid: ChallengeStats(int(n), int(c or 0), int(m or 0)) for cid, n, c, m in rows}


# -- members: eligibility and joining -------------------------------------------------------


def _open(challenge: Challenge, now: datetime) -> bool:
    return challenge.status == "active" and now < challenge.ends_at


def eligible_ids(session: Session, member: Member, challenges, now: datetime) -> set[int]:
    """Which of `challenges` the member may join by tier and segment (a fixed
    number of queries, whatever the number of challenges)."""
    challenges = list(challenges)
    if not member.is_active or not challenges:
        return set()
    rank, ranks = tier_standing(session, member)
    wanted = {c.segment_id for c in challenges if c.segment_id is not None}
    inside = segments.member_ids_in(session, sorted(wanted), member.id, now) if wanted else set()
    return {c.id for c in challenges if may_join(c, rank, ranks, inside)}


def join_challenge(session: Session, *, challenge_id: int, member_id: int, now: datetime
                   ) -> tuple[ChallengeEntry, bool]:
    """Opt the member in. Joining again returns the same entry (created False)."""
    challenge = session.get(Challenge, challenge_id)
    if challenge is None:
        raise NotFound("Challenge not found.", challenge_id=challenge_id)
    member = session.get(Member, member_id)
    if member is None:
        raise NotFound("Member not found.", member_id=member_id)
    existing = _entry(session, challenge_id, member_id)
    if existing is not None:
        return existing, False
    if not member.is_active:
        raise MemberNotActive()
    if not _open(challenge, now):
        raise ChallengeNotOpen(challenge_id=challenge_id)
    if challenge.id not in eligible_ids(session, member, [challenge], now):
        raise NotEligible(challenge_id=challenge_id)
    new_id = session.execute(
        insert_ignoring_duplicates(session, ChallengeEntry)
        .values(challenge_id=challenge_id, member_id=member_id, joined_at=now, progress=0)
        .on_conflict_do_nothing(index_elements=["challenge_id", "member_id"])
        .returning(ChallengeEntry.id)
    ).scalar_one_or_none()
    entry = _entry(session, challenge_id, member_id)
    if new_id is not None:
        # a purchase stamped a little ahead by the till may already count
        _move_on(session, member_id, now, only_challenge=challenge_id)
    return entry, new_id is not None


def _entry(session: Session, challenge_id: int, member_id: int) -> ChallengeEntry | None:
    return session.scalar(select(ChallengeEntry).where(ChallengeEntry.challenge_id == challenge_id,
                                                       ChallengeEntry.member_id == member_id))


# -- progress and completion -----------------------------------------------------------------


def progress_of(session: Session, entries: list[tuple[ChallengeEntry, Challenge]]) -> dict[int, int]:
    """Each entry's progress, recomputed from purchases between
    max(joined_at, starts_at) and ends_at: purchases not fully refunded, spend
    net of refunds, or distinct categories (of the listed set, if any).
    Two queries at most, whatever the number of entries."""
    if not entries:
        return {}
    ids = [e.id for e, _c in entries]
    start = window_start(ChallengeEntry.joined_at, Challenge.starts_at)
    in_window = and_(Purchase.member_id == ChallengeEntry.member_id, Purchase.occurred_at >= start,
                     Purchase.occurred_at < Challenge.ends_at)
    kept = Purchase.refunded_amount < Purchase.amount
    rows = session.execute(
        select(ChallengeEntry.id,
               func.coalesce(func.sum(case((kept, 1), else_=0)), 0),
               func.coalesce(func.sum(Purchase.amount - Purchase.refunded_amount), 0))
        .join(Challenge, Challenge.id == ChallengeEntry.challenge_id)
        .outerjoin(Purchase, in_window)
        .where(ChallengeEntry.id.in_(ids)).group_by(ChallengeEntry.id)
    ).all()
    counts = {eid: (int(n), int(spend)) for eid, n, spend in rows}
    result = {}
    for entry, challenge in entries:
        n, spend = counts.get(entry.id, (0, 0))
        result[entry.id] = n if challenge.metric == "purchase_count" else max(spend, 0)
    by_category = [e.id for e, c in entries if c.metric == "categories"]
    if by_category:
        seen: dict[int, set[str]] = {}
        for eid, category in session.execute(
            select(ChallengeEntry.id, PurchaseItem.category).distinct()
            .join(Challenge, Challenge.id == ChallengeEntry.challenge_id)
            .join(Purchase, in_window).join(PurchaseItem, PurchaseItem.purchase_id == Purchase.id)
            .where(ChallengeEntry.id.in_(by_category), kept, PurchaseItem.category.is_not(None))
        ):
            seen.setdefault(eid, set()).add(normalise_category(category))
        for entry, challenge in entries:
            if challenge.metric == "categories":
                got = {c for c in seen.get(entry.id, ()) if c}
                if challenge.categories:
                    got &= set(challenge.categories)
                result[entry.id] = len(got)
    return result


def _move_on(session: Session, member_id: int, when: datetime, *, now: datetime | None = None,
             only_challenge: int | None = None) -> list[ChallengeEntry]:
    """Recount the member's open entries whose window holds `when`; complete and
    reward those that reached their goal. Returns the entries completed now."""
    now = now or when
    start = window_start(ChallengeEntry.joined_at, Challenge.starts_at)
    query = (
        select(ChallengeEntry.id).join(Challenge, Challenge.id == ChallengeEntry.challenge_id)
        .where(ChallengeEntry.member_id == member_id, ChallengeEntry.completed_at.is_(None),
               Challenge.status == "active", start <= when, Challenge.ends_at > when)
    )
    if only_challenge is not None:
        query = query.where(Challenge.id == only_challenge)
    ids = list(session.scalars(query))
    if not ids:
        return []
    # member row first, then entries: the order every purchase and refund locks in.
    # With the entries locked, a concurrent purchase's count (a new statement under
    # Read Committed) sees this one's purchase once it commits. FOR NO KEY UPDATE,
    # not FOR UPDATE: a concurrent purchase's INSERT already holds a key-share lock
    # on the member row (its foreign key) while it waits for our balance update.
    session.execute(select(Member.id).where(Member.id == member_id).with_for_update(key_share=True))
    rows = session.execute(
        select(ChallengeEntry, Challenge).join(Challenge, Challenge.id == ChallengeEntry.challenge_id)
        .where(ChallengeEntry.id.in_(ids)).order_by(ChallengeEntry.id)
        .with_for_update(of=ChallengeEntry).execution_options(populate_existing=True)
    ).all()
    open_rows = [(e, c) for e, c in rows if e.completed_at is None]
    values = progress_of(session, open_rows)
    completed = []
    for entry, challenge in open_rows:
        entry.progress = values[entry.id]
        if entry.progress >= challenge.goal and _complete(session, entry, challenge, now):
            completed.append(entry)
    session.flush()
    return completed


def _complete(session: Session, entry: ChallengeEntry, challenge: Challenge, now: datetime) -> bool:
    """Set `completed_at` once (a guarded UPDATE) and reward that once."""
    won = session.execute(
        update(ChallengeEntry).where(ChallengeEntry.id == entry.id, ChallengeEntry.completed_at.is_(None))
        .values(completed_at=now, progress=entry.progress).execution_options(synchronize_session=False)
    ).rowcount
    if won != 1:
        session.refresh(entry)
        return False
    entry.completed_at = now
    key = f"challenge:{challenge.id}:member:{entry.member_id}"
    about = {"member_id": entry.member_id, "now": now, "source": ("challenge", challenge.id),
             "description": f"Challenge completed: {challenge.name_en}"}
    if challenge.reward_points:
        prizes.give(session, kind="points", amount=challenge.reward_points, key=f"{key}:reward", **about)
        tiers.on_points_earned(session, entry.member_id, kind="earn", now=now)
    reward_given = None
    if challenge.reward_id is not None:
        reward_given = _grant(session, entry, challenge, key=f"{key}:reward_item", about=about)
    messages.notify(
        session, member_id=entry.member_id, kind="challenge_completed", key=f"{key}:completed", now=now,
        params={"challenge_id": challenge.id, "name_fa": challenge.name_fa, "name_en": challenge.name_en,
                "points": challenge.reward_points or 0, "reward": reward_given},
    )
    return True


def _grant(session: Session, entry: ChallengeEntry, challenge: Challenge, *, key: str, about: dict) -> bool:
    """The catalog reward; a refusal (e.g. out of stock) must not undo the
    purchase that completed the challenge: it is logged and left for staff
    (the challenge page counts completions without their reward)."""
    given = prizes.give(session, kind="reward", reward_id=challenge.reward_id, key=key, **about)
    if not given.issued:
        log.warning("challenge %s: reward %s not granted to member %s: %s", challenge.id,
                    challenge.reward_id, entry.member_id, given.refusal)
        return False
    entry.coupon_id = given.coupon_id
    return True


def on_purchase(session: Session, purchase, *, now: datetime) -> bool:
    """Move the member's running challenges on; reward the ones just completed
    (once). True when one completed (its reward may have moved the balances)."""
    when = purchase.occurred_at
    running = running_at(session, when)
    if not running:
        return False
    if any(c.metric == "categories" for c in running):
        return bool(_move_on(session, purchase.member_id, when, now=now))  # counted in Python
    reached = recount_after_purchase(session, purchase.member_id, when, {c.id: c.goal for c in running})
    return bool(reached and _complete_reached(session, reached, now=now))


def _complete_reached(session: Session, reached: list[int], *, now: datetime) -> list[ChallengeEntry]:
    """Complete and reward (once) the entries a recount took to their goal."""
    completed = []
    for entry, challenge in session.execute(
        select(ChallengeEntry, Challenge).join(Challenge, Challenge.id == ChallengeEntry.challenge_id)
        .where(ChallengeEntry.id.in_(reached)).order_by(ChallengeEntry.id)
        .execution_options(populate_existing=True)
    ).all():
        if entry.progress >= challenge.goal and _complete(session, entry, challenge, now):
            completed.append(entry)
    session.flush()
    return completed


def on_refund(session: Session, purchase, *, now: datetime) -> None:
    """A refund lowers the progress of entries not yet completed; a completed
    entry keeps its completion and reward."""
    _move_on(session, purchase.member_id, purchase.occurred_at, now=now)


def earn_perks(session: Session, member_id: int, now: datetime) -> list[Perk]:
    """The up-front earn multipliers of the member's running challenges (joined,
    active, started, not ended; completed ones keep their perk to the end)."""
    if not any((c.perk_multiplier_bp or 0) > BP for c in running_at(session, now)):
        return []
    rows = session.execute(
        select(Challenge.id, Challenge.perk_multiplier_bp, Challenge.name_en)
        .join(ChallengeEntry, and_(ChallengeEntry.challenge_id == Challenge.id,
                                   ChallengeEntry.member_id == member_id))
        .where(Challenge.status == "active", Challenge.starts_at <= now, Challenge.ends_at > now,
               Challenge.perk_multiplier_bp > BP)
        .order_by(Challenge.id)
    ).all()
    return [Perk(multiplier_bp=bp, name_en=name, challenge_id=cid) for cid, bp, name in rows]


# what a member sees lives in member_challenges (re-exported for callers)
from webapp.services.offers.member_challenges import (  # noqa: E402
    MemberChallenge,  # noqa: F401
    may_join,
    member_challenge,  # noqa: F401
    member_challenges,  # noqa: F401
    member_facts,  # noqa: F401
    open_challenges,  # noqa: F401
    tier_standing,
)
