"""What a member sees of the challenges: the open ones they joined or may join,
with their progress (the challenges from the configuration cache, the member's
entries and segments as `facts`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.models import Challenge, ChallengeEntry, Member, Reward
from webapp.services import config_cache, tiers
from webapp.services.members import facts
from webapp.services.offers import segments

# -- what a member sees -------------------------------------------------------------------------


def tier_standing(session: Session, member: Member) -> tuple[int, dict[int, int]]:
    """The member's level rank and every level's rank by tier id, from the cached
    program (0 and none when the club has no program)."""
    program = tiers.load_program(session)
    if program is None:
        return 0, {}
    return tiers.member_level(session, member, program).rank, {lv.id: lv.rank for lv in program.levels}


def may_join(challenge: Challenge, rank: int, ranks: dict[int, int], inside: set[int]) -> bool:
    """By tier (the member's rank against the rank its level id has) and segment."""
    return ((challenge.min_tier_id is None or rank >= ranks.get(challenge.min_tier_id, 0))
            and (challenge.segment_id is None or challenge.segment_id in inside))


@dataclass(frozen=True)
class MemberChallenge:
    challenge: Challenge
    entry: ChallengeEntry | None
    eligible: bool
    reward_name_fa: str | None = None
    reward_name_en: str | None = None

    @property
    def joined(self) -> bool:
        return self.entry is not None

    @property
    def completed(self) -> bool:
        return self.entry is not None and self.entry.completed_at is not None

    @property
    def progress(self) -> int:
        if self.entry is None:
            return 0
        return max(self.entry.progress, self.challenge.goal) if self.completed else self.entry.progress

    @property
    def left(self) -> int:
        return 0 if self.completed else max(self.challenge.goal - self.progress, 0)

    @property
    def percent(self) -> int:
        return min(100, self.progress * 100 // self.challenge.goal)

    def started(self, now: datetime) -> bool:
        return self.challenge.starts_at <= now


def _open_challenges(session: Session) -> tuple[tuple[Challenge, str | None, str | None], ...]:
    """Active challenges with their reward's names, detached for the configuration cache."""
    rows = tuple((c, fa, en) for c, fa, en in session.execute(
        select(Challenge, Reward.name_fa, Reward.name_en)
        .outerjoin(Reward, Reward.id == Challenge.reward_id)
        .where(Challenge.status == "active").order_by(Challenge.ends_at, Challenge.id)))
    for challenge, _fa, _en in rows:
        session.expunge(challenge)
    return rows


def open_challenges(session: Session, now: datetime):
    """(challenge, reward name fa, en) not ended yet, soonest ending first (shared, read-only)."""
    return [row for row in config_cache.cached(session, "challenges", _open_challenges) if row[0].ends_at > now]


def member_facts(session: Session, member: Member, now: datetime) -> dict[str, object]:
    """The `facts` the member's challenges need: their entries, the segments they are in."""
    shown = open_challenges(session, now)
    wanted = {c.segment_id for c, _fa, _en in shown if c.segment_id is not None}
    entries = (select(*facts.fact("challenge_entry", ref=ChallengeEntry.challenge_id, n1=ChallengeEntry.progress,
                                  n2=ChallengeEntry.coupon_id, t1=ChallengeEntry.joined_at,
                                  t2=ChallengeEntry.completed_at))
               .where(ChallengeEntry.member_id == member.id,
                      ChallengeEntry.challenge_id.in_([c.id for c, _fa, _en in shown])))
    return {"challenge_entry": entries,
            "challenge_segment": segments.member_facts(session, "challenge_segment", wanted, member.id, now)}


def member_challenges(session: Session, member: Member, now: datetime, found: dict | None = None,
                      ) -> list[MemberChallenge]:
    """Open challenges the member has joined or may join, joined first, soonest
    ending first: the challenges from the configuration cache, the member's
    entries and segments in one query (or from `found`, fetched with the page's
    other `facts`)."""
    rows = open_challenges(session, now)
    if not rows:
        return []
    found = found if found is not None else facts.fetch(session, member_facts(session, member, now))
    entries = {int(r.ref): ChallengeEntry(challenge_id=int(r.ref), member_id=member.id, progress=int(r.n1),
                                          coupon_id=r.n2, joined_at=r.t1, completed_at=r.t2)
               for r in found["challenge_entry"]}  # read-only copies, never added to a session
    inside = {int(r.ref) for r in found["challenge_segment"]}
    rank, ranks = tier_standing(session, member)
    eligible = {c.id for c, _fa, _en in rows
                if member.is_active and c.id not in entries and may_join(c, rank, ranks, inside)}
    found = [MemberChallenge(c, entries.get(c.id), c.id in eligible, fa, en)
             for c, fa, en in rows if c.id in entries or c.id in eligible]
    return sorted(found, key=lambda m: not m.joined)  # stable: keeps the ending order


def member_challenge(session: Session, member: Member, challenge_id: int, now: datetime) -> MemberChallenge | None:
    return next((m for m in member_challenges(session, member, now) if m.challenge.id == challenge_id), None)
