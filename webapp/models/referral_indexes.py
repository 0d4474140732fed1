"""Indexes the staff referral report reads by (issue 6, staff side): each of
the report's figures is a range of one event time, and the review queue looks
up other sign-ups from the same device. Kept apart from the core models so the
referral tables' own module stays as the core left it."""

from __future__ import annotations

from sqlalchemy import Index

from webapp.models.ledger import LedgerEntry
from webapp.models.referrals import Referral

REFERRAL_REPORT_INDEXES = (
    Index("ix_referral_created_at", Referral.created_at),
    Index("ix_referral_qualified_at", Referral.qualified_at),
    Index("ix_referral_visitor", Referral.visitor),
    # referral payments among all the ledger's entries, by time (a small partial index)
    Index("ix_ledger_entry_referral_created", LedgerEntry.created_at,
          postgresql_where=LedgerEntry.source_type == "referral",
          sqlite_where=LedgerEntry.source_type == "referral"),
)
