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
    shifts when new entries arrive while the member scrolls. One statement: the
    page's entries, each with the earn rule that paid it (`rule_note`, else None)."""
    page = select(LedgerEntry.id).where(LedgerEntry.member_id == member_id)
    if before_id is not None:
        page = page.where(LedgerEntry.id < before_id)
    page = page.order_by(LedgerEntry.id.desc()).limit(limit + 1).subquery()
    rows = session.execute(
        select(LedgerEntry, *NOTE_COLUMNS).join(page, page.c.id == LedgerEntry.id)
        .outerjoin(RuleAward, RuleAward.entry_id == LedgerEntry.id)
        .outerjoin(EarnRule, EarnRule.id == RuleAward.rule_id)
        .outerjoin(Tier, Tier.id == RuleAward.tier_id)
        .order_by(LedgerEntry.id.desc(), RuleAward.id))
    entries: dict[int, LedgerEntry] = {}
    for entry, *note in rows:
        if entry.id not in entries:  # one note an entry: the first award's
            entry.rule_note = RuleNote(*note) if note[0] is not None else None
            entries[entry.id] = entry
    listed = list(entries.values())
    more = len(listed) > limit
    listed = listed[:limit]
    return ActivityPage(entries=listed, next_before=listed[-1].id if more else None)


@dataclass(frozen=True)
class RuleNote:
    """Which earn rule gave an entry and what multiplied it, in both languages."""

    name_fa: str
    name_en: str
    tier_name_fa: str | None
    tier_name_en: str | None
    tier_multiplier_bp: int
    perk_multiplier_bp: int


NOTE_COLUMNS = (EarnRule.name_fa, EarnRule.name_en, Tier.name_fa, Tier.name_en,
                RuleAward.tier_multiplier_bp, RuleAward.perk_multiplier_bp)
