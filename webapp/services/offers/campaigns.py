"""Campaigns: bonus points and targeted offers to a segment, with a hold-out
control group measured against the treatment group.

Life of a campaign: draft → scheduled → running → done (or cancelled before it
runs, or failed with the error kept). Starting it freezes the audience into
`campaign_member` (one INSERT … SELECT) and draws the control group from the
campaign's seed. A bonus campaign then awards in chunks (`award_next_chunk`),
each chunk one transaction the job commits, so progress shows while it runs and
a killed job resumes where it stopped; ledger keys make a replay award nothing.
Offer and earn-rule campaigns stay running (live) until `ends_at`.

Services never commit: the job (`webapp.jobs.campaigns`) commits per step."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, fields
from datetime import datetime, timedelta

from sqlalchemy import Select, String, case, cast, exists, literal, select, true, update
from sqlalchemy.orm import Session

from webapp.db import insert_ignoring_duplicates
from webapp.models import (
    CAMPAIGN_KINDS,
    Campaign,
    CampaignMember,
    EarnRule,
    Reward,
    Segment,
)
from webapp.services import ledger, messages
from webapp.services.errors import Conflict, NotFound, ProblemsInvalid
from webapp.services.members import audit, facts
from webapp.services.offers import segments
from webapp.services.offers.campaign_report import Lift, campaign_report  # noqa: F401  (callers' names)
from webapp.services.settings import load_earn_settings

MAX_BONUS = 10_000_000
MAX_BUDGET = 10**12
MAX_OFFER_COST = 10**9
MAX_CONTROL_PERCENT = 50
MAX_MESSAGE = 500
MAX_NAME = 120
MAX_DAYS = 366
CHUNK = 5000  # members per awarding transaction: one progress step, committed
EDITABLE = ("draft",)
CANCELLABLE = ("draft", "scheduled")


class CampaignInvalid(ProblemsInvalid):
    """The campaign is not valid."""

    code = "campaign_invalid"



class CampaignStateConflict(Conflict):
    """The campaign is not in a state that allows this."""

    code = "campaign_state"


@dataclass(frozen=True)
class Offer:
    campaign_id: int
    cost_points: int  # the campaign's price of the reward for this member


@dataclass(frozen=True)
class CampaignDraft:
    """What staff design; fields that do not belong to the kind are dropped."""

    name: str
    kind: str
    segment_id: int | None
    starts_at: datetime
    ends_at: datetime
    control_percent: int = 0
    budget_points: int | None = None
    bonus_points: int | None = None
    message_fa: str | None = None
    message_en: str | None = None
    reward_id: int | None = None
    offer_cost_points: int | None = None
    earn_rule_id: int | None = None

    def normalised(self) -> CampaignDraft:
        clean = {f.name: getattr(self, f.name) for f in fields(self)}
        for name in ("name", "message_fa", "message_en"):
            value = (clean[name] or "").strip()
            clean[name] = value or (None if name != "name" else "")
        if self.kind != "bonus":
            clean["bonus_points"] = None
        if self.kind != "offer":
            clean["reward_id"] = clean["offer_cost_points"] = None
        if self.kind != "earn_rule":
            clean["earn_rule_id"] = None
        if self.kind == "offer":
            clean["budget_points"] = None  # an offer spends members' points, it awards none
        return CampaignDraft(**clean)


DRAFT_FIELDS = tuple(f.name for f in fields(CampaignDraft))


# -- designing ---------------------------------------------------------------------


def check_campaign(session: Session, draft: CampaignDraft, *, campaign_id: int | None = None) -> dict[str, str]:
    """What is wrong with the draft, as field -> code (the admin words it)."""
    d = draft.normalised()
    problems: dict[str, str] = {}
    if not d.name or len(d.name) > MAX_NAME:
        problems["name"] = "campaign_name"
    if d.kind not in CAMPAIGN_KINDS:
        problems["kind"] = "campaign_kind"
    if d.segment_id is not None:
        segment = session.get(Segment, d.segment_id)
        if segment is None or segment.archived_at is not None:
            problems["segment_id"] = "segment_choice"
    if d.starts_at >= d.ends_at:
        problems["ends_at"] = "campaign_end_before_start"
    elif d.ends_at - d.starts_at > timedelta(days=MAX_DAYS):
        problems["ends_at"] = "campaign_too_long"
    if not 0 <= d.control_percent <= MAX_CONTROL_PERCENT:
        problems["control_percent"] = "control_percent_range"
    if d.budget_points is not None and not 1 <= d.budget_points <= MAX_BUDGET:
        problems["budget_points"] = "campaign_budget"
    for name in ("message_fa", "message_en"):
        if getattr(d, name) and len(getattr(d, name)) > MAX_MESSAGE:
            problems[name] = "message_too_long"
    if bool(d.message_fa) != bool(d.message_en):
        problems["message_en" if d.message_fa else "message_fa"] = "message_both_languages"
    if d.kind == "bonus":
        if d.bonus_points is None or not 1 <= d.bonus_points <= MAX_BONUS:
            problems["bonus_points"] = "bonus_points_range"
        elif d.budget_points is not None and d.budget_points < d.bonus_points:
            problems["budget_points"] = "budget_below_bonus"
        if not d.message_fa and "message_fa" not in problems:
            problems["message_fa"] = "bonus_needs_message"
    elif d.kind == "offer":
        reward = session.get(Reward, d.reward_id) if d.reward_id is not None else None
        if reward is None or reward.status == "archived":
            problems["reward_id"] = "reward_choice"
        if d.offer_cost_points is None or not 0 <= d.offer_cost_points <= MAX_OFFER_COST:
            problems["offer_cost_points"] = "offer_cost_range"
        elif reward is not None and d.offer_cost_points > reward.cost_points:
            problems["offer_cost_points"] = "offer_cost_above_price"
    elif d.kind == "earn_rule":
        rule = session.get(EarnRule, d.earn_rule_id) if d.earn_rule_id is not None else None
        if rule is None or rule.status != "draft" or rule.campaign_id not in (None, campaign_id):
            problems["earn_rule_id"] = "earn_rule_choice"
    return problems


def _values(draft: CampaignDraft) -> dict:
    return {name: getattr(draft, name) for name in DRAFT_FIELDS}


def _audit_view(campaign: Campaign) -> dict:
    view = {name: getattr(campaign, name) for name in DRAFT_FIELDS}
    view.update(status=campaign.status)
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in view.items()}


def create_campaign(session: Session, draft: CampaignDraft, *, actor: audit.Actor, now: datetime) -> Campaign:
    draft = draft.normalised()
    problems = check_campaign(session, draft)
    if problems:
        raise CampaignInvalid(problems)
    campaign = Campaign(**_values(draft), status="draft", seed=secrets.token_hex(16),
                        created_by=actor.label, created_at=now)
    session.add(campaign)
    session.flush()
    _link_rule(session, campaign)
    audit.record(session, actor, "campaigns.create", "campaign", campaign.id, now=now,
                 after=_audit_view(campaign))
    return campaign


def update_campaign(session: Session, campaign_id: int, draft: CampaignDraft, *, actor: audit.Actor,
                    now: datetime) -> Campaign:
    campaign = _locked(session, campaign_id)
    _require(campaign, EDITABLE)
    draft = draft.normalised()
    problems = check_campaign(session, draft, campaign_id=campaign.id)
    if problems:
        raise CampaignInvalid(problems)
    before = _audit_view(campaign)
    _unlink_rule(session, campaign)
    for name, value in _values(draft).items():
        setattr(campaign, name, value)
    _link_rule(session, campaign)
    session.flush()
    audit.record(session, actor, "campaigns.update", "campaign", campaign.id, now=now,
                 before=before, after=_audit_view(campaign))
    return campaign


def schedule_campaign(session: Session, campaign_id: int, *, actor: audit.Actor, now: datetime,
                      start_now: bool = False) -> Campaign:
    """Draft → scheduled (the minute cron starts it at `starts_at`). `start_now`
    moves the start to now, also from scheduled; the caller enqueues the job
    after committing."""
    campaign = _locked(session, campaign_id)
    _require(campaign, ("draft", "scheduled") if start_now else EDITABLE)
    before = _audit_view(campaign)
    if start_now and campaign.starts_at > now:
        campaign.starts_at = now  # the measured window starts when the campaign does
    problems = check_campaign(session, _draft_of(campaign), campaign_id=campaign.id)
    if campaign.ends_at <= now:
        problems["ends_at"] = "campaign_end_passed"
    if problems:
        raise CampaignInvalid(problems)
    campaign.status = "scheduled"
    audit.record(session, actor, "campaigns.start_now" if start_now else "campaigns.schedule", "campaign",
                 campaign.id, now=now, before=before, after=_audit_view(campaign))
    return campaign


def cancel_campaign(session: Session, campaign_id: int, *, actor: audit.Actor, now: datetime) -> Campaign:
    campaign = _locked(session, campaign_id)
    _require(campaign, CANCELLABLE)
    before = _audit_view(campaign)
    _unlink_rule(session, campaign)
    campaign.status, campaign.finished_at = "cancelled", now
    audit.record(session, actor, "campaigns.cancel", "campaign", campaign.id, now=now,
                 before=before, after=_audit_view(campaign))
    return campaign


def retry_campaign(session: Session, campaign_id: int, *, actor: audit.Actor, now: datetime) -> Campaign:
    """A failed campaign goes back to where it stopped: scheduled if its audience
    was never frozen, else running (the awards resume; keys prevent doubles)."""
    campaign = _locked(session, campaign_id)
    _require(campaign, ("failed",))
    before = {"status": campaign.status, "error": campaign.error}
    campaign.status = "running" if campaign.started_at else "scheduled"
    campaign.error, campaign.finished_at = None, None
    audit.record(session, actor, "campaigns.retry", "campaign", campaign.id, now=now, before=before,
                 after={"status": campaign.status})
    return campaign


def _draft_of(campaign: Campaign) -> CampaignDraft:
    return CampaignDraft(**{name: getattr(campaign, name) for name in DRAFT_FIELDS})


def _locked(session: Session, campaign_id: int) -> Campaign:
    campaign = session.scalar(select(Campaign).where(Campaign.id == campaign_id).with_for_update()
                              .execution_options(populate_existing=True))
    if campaign is None:
        raise NotFound("Campaign not found.", campaign_id=campaign_id)
    return campaign


def _require(campaign: Campaign, statuses) -> None:
    if campaign.status not in statuses:
        raise CampaignStateConflict(f"The campaign is {campaign.status}.", status=campaign.status)


def _link_rule(session: Session, campaign: Campaign) -> None:
    if campaign.earn_rule_id is not None:
        session.execute(update(EarnRule).where(EarnRule.id == campaign.earn_rule_id)
                        .values(campaign_id=campaign.id))


def _unlink_rule(session: Session, campaign: Campaign) -> None:
    """A draft rule a campaign let go of is an ordinary draft again."""
    if campaign.earn_rule_id is not None:
        session.execute(update(EarnRule).where(EarnRule.id == campaign.earn_rule_id,
                                               EarnRule.status == "draft")
                        .values(campaign_id=None))


# -- running -----------------------------------------------------------------------


def due_campaign_ids(session: Session, now: datetime) -> list[int]:
    """Campaigns the job should (re)run: scheduled ones whose start has come, and
    bonus campaigns still awarding (a job killed mid-way is picked up again)."""
    return list(session.scalars(
        select(Campaign.id).where(
            ((Campaign.status == "scheduled") & (Campaign.starts_at <= now))
            | ((Campaign.status == "running") & (Campaign.kind == "bonus")))
        .order_by(Campaign.id)))


def draw_control_group(seed: str, member_ids: list[int], percent: int) -> list[int]:
    """The hold-out: the round(n × percent / 100) members whose HMAC(seed, id)
    is lowest. Reproducible from the seed and the frozen audience, and the same
    in any database (computed here, not in SQL)."""
    k = held_out_count(len(member_ids), percent)
    if k <= 0:
        return []
    key = seed.encode()

    def rank(member_id: int) -> bytes:
        return hmac.new(key, str(member_id).encode(), hashlib.sha256).digest()

    return sorted(sorted(member_ids, key=rank)[:k])


def held_out_count(members: int, percent: int) -> int:
    """The size of the control group drawn from `members` (the editor's preview uses it too)."""
    return round(members * percent / 100)


def begin_campaign(session: Session, campaign_id: int, *, now: datetime) -> Campaign | None:
    """Scheduled → running: freeze the audience and draw the control group, in the
    caller's transaction. Returns the campaign if there is work to do (running),
    None if it is not due or already over."""
    campaign = _locked(session, campaign_id)
    if campaign.status == "running":
        return campaign
    if campaign.status != "scheduled" or campaign.starts_at > now:
        return None
    audience = segments.audience(session, campaign.segment_id, now).subquery()
    session.execute(
        insert_ignoring_duplicates(session, CampaignMember).from_select(
            ["campaign_id", "member_id", "in_control", "points"],
            select(literal(campaign.id), audience.c[0], literal(False), literal(0))
            .where(true()))  # SQLite needs a WHERE before ON CONFLICT in INSERT … SELECT
        .on_conflict_do_nothing(index_elements=["campaign_id", "member_id"]))
    ids = list(session.scalars(select(CampaignMember.member_id)
                               .where(CampaignMember.campaign_id == campaign.id)
                               .order_by(CampaignMember.member_id)))
    held_out = draw_control_group(campaign.seed, ids, campaign.control_percent)
    for start in range(0, len(held_out), CHUNK):
        session.execute(update(CampaignMember).where(
            CampaignMember.campaign_id == campaign.id,
            CampaignMember.member_id.in_(held_out[start:start + CHUNK])).values(in_control=True))
    campaign.members_total = len(ids) - len(held_out)  # the treatment group: who the job serves
    campaign.status, campaign.started_at = "running", now
    if campaign.kind == "earn_rule" and campaign.earn_rule_id is not None:
        _activate_rule(session, campaign, now)
    if campaign.kind != "bonus":
        _message_treatment(session, campaign, now)
        campaign.members_done = campaign.members_total
    session.flush()
    return campaign


def _activate_rule(session: Session, campaign: Campaign, now: datetime) -> None:
    rule = session.get(EarnRule, campaign.earn_rule_id)
    if rule is None or rule.status != "draft":
        return
    rule.status, rule.activated_at = "active", now
    rule.starts_at, rule.ends_at, rule.campaign_id = campaign.starts_at, campaign.ends_at, campaign.id
    if campaign.budget_points is not None:
        rule.budget_points = min(rule.budget_points or campaign.budget_points, campaign.budget_points)


def _message_treatment(session: Session, campaign: Campaign, now: datetime) -> None:
    if not campaign.message_fa:
        return
    ids = session.scalars(select(CampaignMember.member_id).where(
        CampaignMember.campaign_id == campaign.id, CampaignMember.in_control.is_(False)))
    messages.notify_many(session, [
        {"member_id": mid, "kind": "campaign", "key": f"campaign:{campaign.id}:member:{mid}",
         "params": _message_params(campaign, 0)} for mid in ids], now=now)


def _message_params(campaign: Campaign, points: int) -> dict:
    return {"campaign": campaign.id, "points": points, "fa": campaign.message_fa, "en": campaign.message_en}


def award_next_chunk(session: Session, campaign_id: int, *, now: datetime, size: int = CHUNK) -> int:
    """Award the bonus to the next `size` treatment members (id order) not dealt
    with yet, within the budget: once it cannot cover a whole bonus, the rest are
    recorded with 0 points. Returns how many members this chunk dealt with (0:
    finished, and the campaign is marked done)."""
    campaign = _locked(session, campaign_id)
    if campaign.status != "running" or campaign.kind != "bonus":
        return 0
    member_ids = list(session.scalars(
        select(CampaignMember.member_id).where(
            CampaignMember.campaign_id == campaign.id, CampaignMember.in_control.is_(False),
            CampaignMember.awarded_at.is_(None))
        .order_by(CampaignMember.member_id).limit(size)))
    if not member_ids:
        campaign.status, campaign.finished_at = "done", now
        session.flush()
        return 0
    bonus = campaign.bonus_points
    affordable = len(member_ids) if campaign.budget_points is None else \
        max(0, (campaign.budget_points - campaign.points_awarded) // bonus)
    paid = member_ids[:affordable]
    # the chunk is a range of ids among the members not dealt with yet, so the
    # awards and messages are INSERT … SELECTs over campaign_member: set-based
    pending = (CampaignMember.campaign_id == campaign.id, CampaignMember.in_control.is_(False),
               CampaignMember.awarded_at.is_(None))
    awarded = []
    if paid:
        in_paid = (*pending, CampaignMember.member_id <= paid[-1])
        key = (literal(f"campaign:{campaign.id}:member:") + cast(CampaignMember.member_id, String))
        awarded = ledger.award_points_from(
            session, select(CampaignMember.member_id, literal(bonus), key).where(*in_paid),
            kind="earn", now=now, expires_at=_expiry(session, now), source_type="campaign",
            description=f"Campaign {campaign.id}: {campaign.name}")
        if campaign.message_fa:
            messages.notify_from(
                session, select(CampaignMember.member_id, key).where(*in_paid), kind="campaign",
                params=_message_params(campaign, bonus), now=now)
        session.execute(update(CampaignMember).where(*in_paid).values(points=bonus, awarded_at=now))
    if member_ids[affordable:]:
        session.execute(update(CampaignMember).where(*pending, CampaignMember.member_id <= member_ids[-1])
                        .values(points=0, awarded_at=now))
    # the ledger keys count what this chunk really posted (a replay posts nothing)
    campaign.points_awarded += sum(a.points for a in awarded)
    campaign.members_done += len(member_ids)
    session.flush()
    return len(member_ids)


def _expiry(session: Session, now: datetime) -> datetime | None:
    days = load_earn_settings(session).points_expiry_days
    return now + timedelta(days=days) if days else None


def fail_campaign(session: Session, campaign_id: int, error: str, *, now: datetime) -> None:
    session.execute(update(Campaign).where(Campaign.id == campaign_id,
                                           Campaign.status.in_(("scheduled", "running")))
                    .values(status="failed", error=error[:300], finished_at=now))


def finish_ended_campaigns(session: Session, now: datetime) -> list[int]:
    """Running offer and earn-rule campaigns past their end are done; their rule ends."""
    ids = list(session.scalars(select(Campaign.id).where(
        Campaign.status == "running", Campaign.kind != "bonus", Campaign.ends_at <= now)))
    if ids:
        session.execute(update(Campaign).where(Campaign.id.in_(ids)).values(status="done", finished_at=now))
        session.execute(update(EarnRule).where(EarnRule.campaign_id.in_(ids), EarnRule.status == "active")
                        .values(status="ended", ended_at=now))
    return ids


# -- what members get ----------------------------------------------------------------


def member_offers(session: Session, member_id: int, now: datetime) -> dict[int, Offer]:
    """reward_id -> the running offer campaign's price, for a member in its
    treatment group (control members and everyone else: nothing). One query;
    two offers of one reward: the cheaper wins."""
    return offers_of(facts.fetch(session, {"offer": offers_fact(member_id, now)})["offer"])


def offers_fact(member_id: int, now: datetime) -> Select:
    """The running offers the member is in the treatment group of (`facts`)."""
    return (select(*facts.fact("offer", ref=Campaign.reward_id, n1=Campaign.id, n2=Campaign.offer_cost_points))
            .join(CampaignMember, CampaignMember.campaign_id == Campaign.id)
            .where(CampaignMember.member_id == member_id, CampaignMember.in_control.is_(False),
                   Campaign.kind == "offer", Campaign.status == "running",
                   Campaign.starts_at <= now, Campaign.ends_at > now))


def offers_of(rows) -> dict[int, Offer]:
    """`offers_fact`'s rows by reward; of two offers of one reward the cheaper wins."""
    ordered = sorted(rows, key=lambda r: (-r.n2, -r.n1))  # dearest first: the cheaper overwrites
    return {int(r.ref): Offer(int(r.n1), int(r.n2)) for r in ordered}


def in_treatment(session: Session, campaign_id: int, member_id: int) -> bool:
    """True when the member is in the campaign's audience and not held out."""
    return bool(session.scalar(select(exists().where(
        CampaignMember.campaign_id == campaign_id, CampaignMember.member_id == member_id,
        CampaignMember.in_control.is_(False)))))


# -- reading -----------------------------------------------------------------------


def audience_size(session: Session, segment_id: int | None, now: datetime) -> int:
    return segments.count(session, segment_id, now)


@dataclass(frozen=True)
class AudienceSplit:
    """How the audience would divide if the campaign started now; the real
    split is drawn when it starts, from the members active then."""

    members: int
    control: int

    @property
    def treatment(self) -> int:
        return self.members - self.control


def audience_split(session: Session, segment_id: int | None, control_percent: int, now: datetime) -> AudienceSplit:
    members = segments.count(session, segment_id, now)
    return AudienceSplit(members, held_out_count(members, control_percent))


def campaign_list(session: Session, *, limit: int = 200) -> list[Campaign]:
    order = case((Campaign.status.in_(("running", "scheduled")), 0), else_=1)
    return list(session.scalars(select(Campaign).order_by(order, Campaign.starts_at.desc(), Campaign.id.desc())
                                .limit(limit)))
