"""Random sequences of earn / spend / purchase / refund / expire / replay against
the real database, checked after every step against a model of the ledger:
balances never go negative, `sum(entries) == balance == sum(open lots)`, lots are
consumed soonest-expiry first, and replaying a key changes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select, text

from webapp.db import Base
from webapp.extensions import db
from webapp.models import LedgerEntry, PointLot
from webapp.services import ledger
from webapp.services.errors import InsufficientCredit, InsufficientPoints
from webapp.services.ledger.purchases import record_purchase, refund_purchase
from webapp.services.members.accounts import Identifiers, create_member
from webapp.services.settings import EarnSettings

START = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
EARN = EarnSettings(earn_points=1, earn_per_amount=10_000, points_expiry_days=30)


@dataclass
class ModelLot:
    id: int
    expires_at: datetime | None
    remaining: int


@dataclass(frozen=True)
class Posted:
    key: str
    currency: str
    amount: int  # signed, as posted


@dataclass
class ModelPurchase:
    id: int
    amount: int
    points_earned: int
    refunded: int = 0
    accounted: int = 0  # points reversed + shortfall over all its refunds


def empty_tables() -> None:
    """Every example starts from an empty club (the test's own transaction is rolled back after it)."""
    db.session.rollback()
    for table in reversed(Base.metadata.sorted_tables):
        db.session.execute(text(f"DELETE FROM {table.name}"))  # noqa: S608  (our own table names)
    db.session.commit()


class LedgerMachine(RuleBasedStateMachine):
    postings = Bundle("postings")
    purchases = Bundle("purchases")

    def __init__(self):
        super().__init__()
        empty_tables()
        self.s = db.session
        self.now = START
        self.seq = 0
        self.lots: list[ModelLot] = []
        self.credit = 0
        self.entries = 0
        self.member_id = 0

    # -- helpers -----------------------------------------------------------------

    @property
    def points(self) -> int:
        return sum(lot.remaining for lot in self.lots)

    def next_key(self, prefix: str) -> str:
        self.seq += 1
        return f"{prefix}:{self.seq}"

    def consume_fifo(self, points: int) -> None:
        """What the ledger must do: soonest expiry first, never-expiring last, then by id."""
        for lot in sorted(self.lots, key=lambda x: (x.expires_at is None, x.expires_at or START, x.id)):
            take = min(lot.remaining, points)
            lot.remaining -= take
            points -= take
        assert points == 0

    def newest_lot_id(self) -> int:
        return self.s.scalar(select(func.max(PointLot.id)))

    # -- rules ---------------------------------------------------------------------

    @initialize()
    def join(self):
        member = create_member(self.s, ids=Identifiers(f"m{id(self)}@example.com", None),
                               now=self.now)
        self.s.commit()
        self.member_id = member.id

    @rule(target=postings, points=st.integers(1, 400), days=st.none() | st.integers(1, 60))
    def earn(self, points, days):
        key = self.next_key("earn")
        expires = None if days is None else self.now + timedelta(days=days)
        posting = ledger.award_points(self.s, self.member_id, points, key=key, now=self.now,
                                      expires_at=expires)
        self.s.commit()
        assert not posting.replayed
        self.lots.append(ModelLot(self.newest_lot_id(), expires, points))
        self.entries += 1
        assert posting.balance == self.points
        return Posted(key, "points", points)

    @rule(target=postings, points=st.integers(1, 600))
    def spend(self, points):
        key = self.next_key("spend")
        if points > self.points:
            with pytest.raises(InsufficientPoints):
                ledger.spend_points(self.s, self.member_id, points, key=key, now=self.now)
            self.s.rollback()
            return Posted(key, "points", -points)  # never posted: replaying it must fail the same
        posting = ledger.spend_points(self.s, self.member_id, points, key=key, now=self.now)
        self.s.commit()
        self.consume_fifo(points)
        self.entries += 1
        assert posting.balance == self.points
        return Posted(key, "points", -points)

    @rule(target=postings, amount=st.integers(1, 50_000), spend=st.booleans())
    def credit_move(self, amount, spend):
        key = self.next_key("credit")
        if spend and amount > self.credit:
            with pytest.raises(InsufficientCredit):
                ledger.spend_credit(self.s, self.member_id, amount, key=key, now=self.now)
            self.s.rollback()
            return Posted(key, "credit", -amount)
        move = ledger.spend_credit if spend else ledger.grant_credit
        posting = move(self.s, self.member_id, amount, key=key, now=self.now)
        self.s.commit()
        self.credit += -amount if spend else amount
        self.entries += 1
        assert posting.balance == self.credit
        return Posted(key, "credit", -amount if spend else amount)

    @rule(target=purchases, amount=st.integers(1, 3_000_000))
    def purchase(self, amount):
        purchase, balance = record_purchase(
            self.s, member_id=self.member_id, amount=amount, currency="IRR",
            occurred_at=self.now, now=self.now, external_ref=self.next_key("till"), settings=EARN,
        )
        self.s.commit()
        earned = amount // 10_000
        assert purchase.points_earned == earned
        if earned:
            self.lots.append(ModelLot(self.newest_lot_id(), self.now + timedelta(days=30), earned))
            self.entries += 1
        assert balance == self.points
        return ModelPurchase(purchase.id, amount, earned)

    @rule(purchase=purchases, share=st.integers(1, 100))
    def refund(self, purchase, share):
        left = purchase.amount - purchase.refunded
        if left == 0:
            return
        amount = max(1, left * share // 100)
        before = self.points
        refund = refund_purchase(self.s, purchase_id=purchase.id, now=self.now, amount=amount)
        self.s.commit()
        purchase.refunded += amount
        owed = purchase.points_earned * purchase.refunded // purchase.amount - purchase.accounted
        # the points come back as far as the balance allows; the rest is recorded, not lost
        assert refund.points_reversed == min(owed, before)
        assert refund.points_reversed + refund.points_shortfall == owed
        purchase.accounted += owed
        if purchase.refunded == purchase.amount:
            assert purchase.accounted == purchase.points_earned
        if refund.points_reversed:
            self.consume_fifo(refund.points_reversed)
            self.entries += 1

    @rule(days=st.integers(0, 45))
    def expire(self, days):
        self.now += timedelta(days=days)
        due = ledger.due_lot_ids(self.s, self.now, 10_000)
        expired = sum(ledger.expire_lot(self.s, lot_id, self.now) for lot_id in due)
        self.s.commit()
        expected = 0
        for lot in self.lots:
            if lot.expires_at is not None and lot.expires_at <= self.now and lot.remaining:
                expected += lot.remaining
                lot.remaining = 0
                self.entries += 1
        assert expired == expected
        # and a second pass finds nothing left to do
        assert ledger.due_lot_ids(self.s, self.now, 10_000) == []

    @rule(posted=postings)
    def replay(self, posted):
        entries = self.entries
        was_posted = self.s.scalar(
            select(LedgerEntry.id).where(LedgerEntry.idempotency_key == posted.key)
        )
        if was_posted is None:
            # a refused spend left no trace: replaying it is decided afresh, and still refused
            # unless the balance has grown since; only check that nothing half-happens
            return
        posting = ledger.post(self.s, member_id=self.member_id, currency=posted.currency,
                              amount=posted.amount, kind="replay", key=posted.key, now=self.now)
        self.s.commit()
        assert posting.replayed and posting.entry.id == was_posted
        assert self.entries == entries

    @rule(purchase=consumes(purchases))
    def forget_purchase(self, purchase):
        """Keeps the bundle from only growing, so refunds also hit fresh purchases."""

    # -- invariants -------------------------------------------------------------------

    @precondition(lambda self: self.member_id)
    @invariant()
    def balances_match_entries_and_lots(self):
        assert ledger.find_mismatches(self.s) == []
        points = ledger.balance_of(self.s, self.member_id, "points")
        credit = ledger.balance_of(self.s, self.member_id, "credit")
        assert points >= 0 and credit >= 0
        assert (points, credit) == (self.points, self.credit)
        self.s.rollback()

    @precondition(lambda self: self.member_id)
    @invariant()
    def lots_are_consumed_as_the_model_says(self):
        rows = self.s.execute(select(PointLot.id, PointLot.remaining).order_by(PointLot.id)).all()
        assert [tuple(r) for r in rows] == [(lot.id, lot.remaining) for lot in self.lots]
        assert self.s.scalar(select(func.count()).select_from(LedgerEntry)) == self.entries
        self.s.rollback()

    def teardown(self):
        self.s.rollback()


def test_random_ledger_histories_keep_every_invariant(app):
    with app.app_context():
        run_state_machine_as_test(
            LedgerMachine,
            settings=settings(
                max_examples=30,
                stateful_step_count=25,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            ),
        )
