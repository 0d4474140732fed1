"""A broadcast's report: per channel, what happened to its messages (targeted,
suppressed and why, sent, failed, delivered, opened, clicked), and purchases
within its attribution window by the messaged group against the hold-out group.
Two grouped queries, whatever the audience size."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webapp.models import CHANNELS, Broadcast, BroadcastMember, OutboxMessage, Purchase

SENT = ("sent", "delivered")
WAITING = ("pending", "sending")


@dataclass
class ChannelFigures:
    channel: str
    targeted: int = 0
    waiting: int = 0
    sent: int = 0
    failed: int = 0
    suppressed: int = 0
    delivered: int = 0
    opened: int = 0
    clicked: int = 0
    suppressed_by: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Group:
    members: int
    buyers: int  # members with at least one purchase in the window

    @property
    def rate(self) -> Decimal | None:
        """Buyers as a percent of the group."""
        return Decimal(self.buyers * 100) / self.members if self.members else None


@dataclass(frozen=True)
class Report:
    channels: list[ChannelFigures]
    messaged: Group
    held_out: Group
    window_start: datetime | None
    window_end: datetime | None

    @property
    def difference(self) -> Decimal | None:
        """Messaged rate minus hold-out rate, in percentage points."""
        if self.messaged.rate is None or self.held_out.rate is None:
            return None
        return self.messaged.rate - self.held_out.rate


def channel_figures(session: Session, broadcast: Broadcast) -> list[ChannelFigures]:
    """Counts by channel (the broadcast's channels first, in their order), one query."""
    figures = {c: ChannelFigures(c) for c in (broadcast.channels or ())}
    rows = session.execute(
        select(OutboxMessage.channel, OutboxMessage.status, OutboxMessage.reason, func.count(),
               func.count(OutboxMessage.delivered_at), func.count(OutboxMessage.opened_at),
               func.count(OutboxMessage.clicked_at))
        .where(OutboxMessage.broadcast_id == broadcast.id)
        .group_by(OutboxMessage.channel, OutboxMessage.status, OutboxMessage.reason))
    for channel, status, reason, n, delivered, opened, clicked in rows:
        f = figures.setdefault(channel, ChannelFigures(channel))
        f.targeted += n
        # a provider's report moves a row to delivered; a time is kept where it says when
        f.delivered += n if status == "delivered" else (delivered if status == "sent" else 0)
        f.opened += opened
        f.clicked += clicked
        if status in SENT:
            f.sent += n
        elif status in WAITING:
            f.waiting += n
        elif status == "failed":
            f.failed += n
        elif status == "suppressed":
            f.suppressed += n
            f.suppressed_by[reason or "unknown"] = f.suppressed_by.get(reason or "unknown", 0) + n
    order = {c: i for i, c in enumerate(CHANNELS)}
    return sorted(figures.values(), key=lambda f: order.get(f.channel, len(order)))


def window(broadcast: Broadcast) -> tuple[datetime | None, datetime | None]:
    if broadcast.started_at is None:
        return None, None
    return broadcast.started_at, broadcast.started_at + timedelta(days=broadcast.attribution_days)


def purchase_groups(session: Session, broadcast: Broadcast) -> tuple[Group, Group]:
    """(messaged, held out): members and members who bought within the window."""
    start, end = window(broadcast)
    members = dict.fromkeys((False, True), 0)
    buyers = dict.fromkeys((False, True), 0)
    if start is None:
        return Group(0, 0), Group(0, 0)
    bought = (select(Purchase.member_id).where(Purchase.occurred_at >= start, Purchase.occurred_at < end)
              .distinct().subquery())
    for held_out, n, n_bought in session.execute(
            select(BroadcastMember.held_out, func.count(), func.count(bought.c.member_id))
            .outerjoin(bought, bought.c.member_id == BroadcastMember.member_id)
            .where(BroadcastMember.broadcast_id == broadcast.id)
            .group_by(BroadcastMember.held_out)):
        members[bool(held_out)], buyers[bool(held_out)] = int(n), int(n_bought)
    return Group(members[False], buyers[False]), Group(members[True], buyers[True])


def broadcast_report(session: Session, broadcast: Broadcast) -> Report:
    messaged, held_out = purchase_groups(session, broadcast)
    start, end = window(broadcast)
    return Report(channel_figures(session, broadcast), messaged, held_out, start, end)
