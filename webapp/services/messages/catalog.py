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
    # (variable, stem): a text its cause stored in both languages (`<stem>_fa`,
    # `<stem>_en`; a bare `fa`/`en` for an empty stem) that templates read as one
    # variable in the member's language (`render.variables`)
    localized: tuple[tuple[str, str], ...] = ()


_EVENT = ("inbox", "email", "push")
_GIFT = ("kind", "amount")  # prizes.Given: points, credit (money) or a reward coupon
KINDS: dict[str, Kind] = {
    # essential: asked for by the member, to the address they typed
    "sign_in_code": Kind("essential", ("sms",), ("code", "minutes"), secret=("code",)),
    "password_reset": Kind("essential", ("email",), ("link", "minutes"), secret=("link",)),
    "password_reset_code": Kind("essential", ("sms",), ("code", "minutes"), secret=("code",)),
    # transactional: the answer to the member's own act
    "welcome": Kind("transactional", ("inbox", "email")),
    "purchase_receipt": Kind("transactional", ("email",), ("amount", "points", "balance")),
    "reward_redeemed": Kind("transactional", _EVENT, ("reward", "coupon", "points"),
                            localized=(("reward", "reward"),)),
    "credit_converted": Kind("transactional", ("inbox",), ("points", "credit")),
    "instant_win": Kind("transactional", ("inbox",), ("game", "prize", "kind", "value"),
                        localized=(("game", "name"), ("prize", "prize"))),
    "feedback_reply": Kind("transactional", _EVENT, ("thread_id", "excerpt")),
    # notices: what the club did on its own
    "tier_upgrade": Kind("notice", _EVENT, ("tier", "old_tier"),
                         localized=(("tier", "tier_name"), ("old_tier", "old_tier_name"))),
    "tier_at_risk": Kind("notice", _EVENT, ("tier", "keep_needed", "keep_by"),
                         localized=(("tier", "tier_name"),)),
    "tier_downgrade": Kind("notice", _EVENT, ("tier", "old_tier"),
                           localized=(("tier", "tier_name"), ("old_tier", "old_tier_name"))),
    "points_expiring": Kind("notice", _EVENT, ("points", "expires_at", "days")),
    "raffle_won": Kind("notice", ("inbox", "email", "sms", "push"), ("raffle", "prize", *_GIFT),
                       localized=(("raffle", "name"), ("prize", "prize"))),
    "contest_result": Kind("notice", ("inbox", "push"), ("contest", "rank", "score", "entrants"),
                           localized=(("contest", "name"),)),
    "referral_qualified": Kind("notice", ("inbox", "push"), ("friend", *_GIFT)),
    "referral_welcome": Kind("notice", ("inbox", "push"), _GIFT),
    "referral_reversed": Kind("notice", ("inbox",)),
    "referral_board_prize": Kind("notice", ("inbox",), ("month", "place", *_GIFT)),
    "challenge_completed": Kind("notice", ("inbox", "push"), ("challenge", "points"),
                                localized=(("challenge", "name"),)),
    "fee_rebate": Kind("notice", ("inbox",), ("points", "day")),
    "survey": Kind("notice", ("inbox", "email", "sms"), ("link", "question", "question_fa", "question_en"),
                   localized=(("question", "question"),)),
    # marketing: the club's offers, capped per member per day
    "birthday": Kind("marketing", ("inbox", "email", "sms"), ("points",)),
    "win_back": Kind("marketing", ("inbox", "email", "sms"), ("days", "reward", "points"),
                     localized=(("reward", "reward"),)),
    "campaign": Kind("marketing", ("inbox",), ("points", "message"), localized=(("message", ""),)),
    "broadcast": Kind("marketing", ("inbox",), ("subject", "body")),
}
# a kind this version does not know still reaches the inbox
UNKNOWN = Kind("notice", ("inbox",))
SETTING = "message_channels"
# the inbox is the member's only record of these (staff's own words): always on
INBOX_KEPT = ("campaign", "broadcast", "feedback_reply")


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
