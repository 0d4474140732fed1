"""Share-button presses on /invite: which channels members invite through
(the staff report counts them). A press is a hint, not money: no idempotency
key, the view's rate limit keeps the counts honest enough."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from webapp.models import ReferralShare
from webapp.models.referrals import SHARE_CHANNELS
from webapp.services.errors import DomainError


class ShareChannelInvalid(DomainError):
    """Unknown share channel."""

    code = "share_channel_invalid"


def record_share(session: Session, *, member_id: int, channel: str | None, now: datetime) -> ReferralShare:
    if channel not in SHARE_CHANNELS:
        raise ShareChannelInvalid(f"Unknown share channel; one of: {', '.join(SHARE_CHANNELS)}.",
                                  channel=(channel or "")[:20])
    share = ReferralShare(member_id=member_id, channel=channel, created_at=now)
    session.add(share)
    session.flush()
    return share
