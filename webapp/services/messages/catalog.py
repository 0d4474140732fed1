"""What the club can say: each message kind's category, the channels it goes to
unless staff switch them (`channels_for`), and the variables its templates may
use beyond the common ones (`render.COMMON_VARIABLES`)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from webapp.models import CHANNELS
from webapp.services.settings import load_setting


@dataclass(frozen=True)
class Kind:
    category: str  # models.messages.CATEGORIES
    channels: tuple[str, ...]  # on by default
    variables: tuple[str, ...] = ()
    # params that must not outlive delivery (a sign-in code): blanked once sent
    secret: tuple[str, ...] = ()


_EVENT = ("inbox", "email", "push")
KINDS: dict[str, Kind] = {
    # essential: asked for by the member, to the address they typed
    "sign_in_code": Kind("essential", ("sms",), ("code", "minutes"), secret=("code",)),
    "password_reset": Kind("essential", ("email",), ("link", "minutes"), secret=("link",)),
    "password_reset_code": Kind("essential", ("sms",), ("code", "minutes"), secret=("code",)),
    # transactional: the answer to the member's own act
    "welcome": Kind("transactional", ("inbox", "email")),
    "purchase_receipt": Kind("transactional", ("email",), ("amount", "points", "balance")),
    "reward_redeemed": Kind("transactional", _EVENT, ("reward", "coupon", "points")),
    "credit_converted": Kind("transactional", ("inbox",), ("points", "credit")),
    "instant_win": Kind("transactional", ("inbox",), ("name", "prize")),
    "feedback_reply": Kind("transactional", _EVENT, ("thread_id", "excerpt")),
    # notices: what the club did on its own
    "tier_upgrade": Kind("notice", _EVENT, ("tier", "multiplier")),
    "tier_at_risk": Kind("notice", _EVENT, ("tier", "needed", "by")),
    "tier_downgrade": Kind("notice", _EVENT, ("tier", "old_tier")),
    "points_expiring": Kind("notice", _EVENT, ("points", "expires_at", "days")),
    "raffle_won": Kind("notice", ("inbox", "email", "sms", "push"), ("name", "prize")),
    "contest_result": Kind("notice", ("inbox", "push"), ("name", "rank", "score")),
    "referral_qualified": Kind("notice", ("inbox", "push"), ("friend", "points")),
    "referral_welcome": Kind("notice", ("inbox", "push"), ("points",)),
    "referral_reversed": Kind("notice", ("inbox",)),
    "referral_board_prize": Kind("notice", ("inbox",), ("month", "place")),
    "challenge_completed": Kind("notice", ("inbox", "push"), ("name", "points")),
    "fee_rebate": Kind("notice", ("inbox",), ("points", "day")),
    "survey": Kind("notice", ("inbox", "email", "sms"), ("link", "question_fa", "question_en")),
    # marketing: the club's offers, capped per member per day
    "birthday": Kind("marketing", ("inbox", "email", "sms")),
    "win_back": Kind("marketing", ("inbox", "email", "sms"), ("days", "offer")),
    "campaign": Kind("marketing", ("inbox",), ("points",)),
    "broadcast": Kind("marketing", ("inbox",), ("subject", "body")),
}
# a kind this version does not know still reaches the inbox
UNKNOWN = Kind("notice", ("inbox",))
SETTING = "message_channels"


def kind_of(name: str) -> Kind:
    return KINDS.get(name, UNKNOWN)


@dataclass(frozen=True)
class ChannelSwitches:
    """Staff's choice of channels per kind ({kind: [channel, …]}); kinds not
    listed keep their defaults."""

    kinds: dict | None = None


def channels_for(session: Session, kind: str) -> tuple[str, ...]:
    chosen = (load_setting(session, SETTING, ChannelSwitches).kinds or {}).get(kind)
    if chosen is None:
        return kind_of(kind).channels
    return tuple(c for c in CHANNELS if c in chosen)
