"""What a member sees of their own ledger: newest first, one page at a time."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.models import EarnRule, LedgerEntry, RuleAward, Tier

PAGE_SIZE = 20


@dataclass(frozen=True)
class ActivityPage:
    entries: list[LedgerEntry]
    next_before: int | None  # pass as `before_id` for the next (older) page; None at the end


def member_activity(
    session: Session, member_id: int, *, before_id: int | None = None, limit: int = PAGE_SIZE
) -> ActivityPage:
    """Keyset pagination on the entry id (ids grow with time), so a page never
    shifts when new entries arrive while the member scrolls."""
    query = select(LedgerEntry).where(LedgerEntry.member_id == member_id)
    if before_id is not None:
        query = query.where(LedgerEntry.id < before_id)
    rows = list(session.scalars(query.order_by(LedgerEntry.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    entries = rows[:limit]
    attach_rule_notes(session, entries)
    return ActivityPage(entries=entries, next_before=entries[-1].id if more else None)


@dataclass(frozen=True)
class RuleNote:
    """Which earn rule gave an entry and what multiplied it, in both languages."""

    name_fa: str
    name_en: str
    tier_name_fa: str | None
    tier_name_en: str | None
    tier_multiplier_bp: int
    perk_multiplier_bp: int


def attach_rule_notes(session: Session, entries: list[LedgerEntry]) -> None:
    """Give each entry an earn rule paid its `rule_note` (else None): one query
    for the whole page, so the list never asks per entry."""
    ids = [e.id for e in entries if e.source_type == "earn_rule"]
    notes = {}
    if ids:
        rows = session.execute(
            select(RuleAward.entry_id, EarnRule.name_fa, EarnRule.name_en, Tier.name_fa,
                   Tier.name_en, RuleAward.tier_multiplier_bp, RuleAward.perk_multiplier_bp)
            .join(EarnRule, EarnRule.id == RuleAward.rule_id)
            .outerjoin(Tier, Tier.id == RuleAward.tier_id)
            .where(RuleAward.entry_id.in_(ids)))
        notes = {row[0]: RuleNote(*row[1:]) for row in rows}
    for entry in entries:
        entry.rule_note = notes.get(entry.id)
