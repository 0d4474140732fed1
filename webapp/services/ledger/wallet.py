"""The wallet: members turn points into store credit.

Staff set the rate (`points_per_step` points give `credit_per_step` of credit),
a minimum, and an optional daily cap per member; members convert whole steps.
A conversion is one transaction: the member row is locked, the cap checked
against today's conversions (in the club's time zone), points debited FIFO
and credit credited, both under keys derived from the member's one-time form
token, so a replayed form converts once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webapp.models import LedgerEntry
from webapp.services import ledger, messages
from webapp.services.errors import DomainError, MemberNotActive, ProblemsInvalid
from webapp.services.members import audit
from webapp.services.settings import load_setting, store_setting

KEY = "wallet"
KIND = "convert"
MAX_POINTS = 10**9  # per conversion, per step, per minimum and per cap
MAX_CREDIT_PER_STEP = 10**9  # so MAX_POINTS of steps of 1 still fit a BIGINT
MAX_KEY = 150

# why a conversion is refused, in the order they are checked
DISABLED = "disabled"
BELOW_MINIMUM = "below_minimum"
NOT_WHOLE_STEP = "not_whole_step"
OVER_BALANCE = "over_balance"
OVER_DAILY_CAP = "over_daily_cap"
REFUSALS = (DISABLED, BELOW_MINIMUM, NOT_WHOLE_STEP, OVER_BALANCE, OVER_DAILY_CAP)


@dataclass(frozen=True)
class WalletSettings:
    """`points_per_step` points become `credit_per_step` of store credit (in the
    smallest money unit); members convert at least `min_points`, in whole steps,
    and at most `daily_cap_points` a day (0: no cap)."""

    enabled: bool = False
    points_per_step: int = 100
    credit_per_step: int = 10_000
    min_points: int = 100
    daily_cap_points: int = 0

    def credit_for(self, points: int) -> int:
        return (points // self.points_per_step) * self.credit_per_step

    def whole_steps(self, points: int) -> int:
        return (max(points, 0) // self.points_per_step) * self.points_per_step


class WalletSettingsInvalid(ProblemsInvalid):
    """The wallet settings are invalid."""

    code = "wallet_settings_invalid"



class ConversionRefused(DomainError):
    """This conversion is not allowed."""

    code = "conversion_refused"

    def __init__(self, preview: ConversionPreview):
        super().__init__(f"Conversion refused: {preview.refusal}.", reason=preview.refusal)
        self.reason = preview.refusal
        self.preview = preview


class InvalidConversionKey(DomainError):
    """The form is missing its one-time token; reload the page."""

    code = "invalid_form_token"


# -- settings ---------------------------------------------------------------------


def check_settings(settings: WalletSettings) -> dict[str, str]:
    """Every problem, as field -> code (empty when valid)."""
    problems: dict[str, str] = {}

    def whole(name: str, low: int, high: int, code: str) -> bool:
        value = getattr(settings, name)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            problems[name] = code
            return False
        return True

    if not isinstance(settings.enabled, bool):
        problems["enabled"] = "on_off"
    step_ok = whole("points_per_step", 1, MAX_POINTS, "step_points_range")
    whole("credit_per_step", 1, MAX_CREDIT_PER_STEP, "step_credit_range")
    if whole("min_points", 1, MAX_POINTS, "min_points_steps") and step_ok and settings.min_points % settings.points_per_step:
        problems["min_points"] = "min_points_steps"
    if whole("daily_cap_points", 0, MAX_POINTS, "daily_cap_range") and "min_points" not in problems:
        if 0 < settings.daily_cap_points < settings.min_points:
            problems["daily_cap_points"] = "daily_cap_range"
    return problems


def load_wallet_settings(session: Session) -> WalletSettings:
    settings = load_setting(session, KEY, WalletSettings)
    # a hand-edited row must not let members convert at a broken rate
    return settings if not check_settings(settings) else WalletSettings()


def save_wallet_settings(
    session: Session, settings: WalletSettings, *, actor: audit.Actor, now: datetime
) -> WalletSettings:
    """Validate and store the settings; audited with before and after."""
    problems = check_settings(settings)
    if problems:
        raise WalletSettingsInvalid(problems)
    store_setting(session, KEY, load_wallet_settings(session), settings, actor=actor, now=now)
    return settings


# -- previews (pure) ----------------------------------------------------------------


@dataclass(frozen=True)
class ConversionPreview:
    requested: int
    points: int  # `requested` rounded down to whole steps: what would be used
    credit: int  # what `points` give
    refusal: str | None  # one of REFUSALS; None when `requested` converts as it is
    available: int  # the most that converts now (whole steps, balance, cap); 0 if below the minimum
    cap_left: int | None  # points left under today's cap; None without a cap
    # when refused: the largest amount up to `requested` that would convert (0: none)
    suggested: int = 0
    suggested_credit: int = 0

    @property
    def allowed(self) -> bool:
        return self.refusal is None


def preview_conversion(
    settings: WalletSettings, points: int, *, balance: int, converted_today: int
) -> ConversionPreview:
    """What converting `points` gives, and the first reason it is not allowed."""
    if isinstance(points, bool) or not isinstance(points, int) or points > MAX_POINTS:
        raise ValueError("points must be an integer up to MAX_POINTS")
    cap_left = None
    if settings.daily_cap_points:
        cap_left = max(settings.daily_cap_points - converted_today, 0)
    room = balance if cap_left is None else min(balance, cap_left)
    available = settings.whole_steps(room)
    if available < settings.min_points:
        available = 0
    used = settings.whole_steps(points)
    if not settings.enabled:
        refusal = DISABLED
    elif points < settings.min_points:
        refusal = BELOW_MINIMUM
    elif points != used:
        refusal = NOT_WHOLE_STEP
    elif points > balance:
        refusal = OVER_BALANCE
    elif cap_left is not None and points > cap_left:
        refusal = OVER_DAILY_CAP
    else:
        refusal = None
    if not settings.enabled:
        available = 0
    suggested = 0
    if refusal is not None and available:
        suggested = min(used, available)
        suggested = suggested if suggested >= settings.min_points else 0
    return ConversionPreview(
        requested=points, points=used, credit=settings.credit_for(used), refusal=refusal,
        available=available, cap_left=cap_left, suggested=suggested,
        suggested_credit=settings.credit_for(suggested),
    )


# -- converting ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Conversion:
    points: int
    credit: int
    points_balance: int  # after the conversion (now, for a replay)
    credit_balance: int
    created_at: datetime
    replayed: bool  # this key had already converted: nothing changed


@dataclass(frozen=True)
class ConversionLine:
    created_at: datetime
    points: int
    credit: int


@dataclass(frozen=True)
class WalletState:
    settings: WalletSettings
    points_balance: int
    credit_balance: int
    converted_today: int
    available: int  # the most that converts now
    cap_left: int | None
    recent: list[ConversionLine]
    preview: ConversionPreview | None  # for the amount asked about, if any


def local_day(now: datetime, tz: str) -> tuple[datetime, datetime]:
    """The calendar day containing `now` in the club's time zone, as UTC bounds."""
    zone = ZoneInfo(tz)
    day = now.astimezone(zone).date()
    start = datetime.combine(day, time(), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def converted_on_day(session: Session, member_id: int, now: datetime, tz: str) -> int:
    start, end = local_day(now, tz)
    total = session.scalar(
        select(func.coalesce(func.sum(-LedgerEntry.amount), 0)).where(
            LedgerEntry.member_id == member_id,
            LedgerEntry.currency == "points",
            LedgerEntry.kind == KIND,
            LedgerEntry.created_at >= start,
            LedgerEntry.created_at < end,
        )
    )
    return int(total)  # PostgreSQL sums BIGINT as NUMERIC


def wallet_state(
    session: Session, member_id: int, *, now: datetime, tz: str, points: int | None = None,
    recent: int = 10,
) -> WalletState:
    """Everything /me/wallet shows; with `points`, also the preview for them."""
    settings = load_wallet_settings(session)
    points_balance = ledger.balance_of(session, member_id, "points")
    credit_balance = ledger.balance_of(session, member_id, "credit")
    today = converted_on_day(session, member_id, now, tz)
    baseline = preview_conversion(settings, 0, balance=points_balance, converted_today=today)
    preview = None
    if points is not None:
        preview = preview_conversion(settings, points, balance=points_balance, converted_today=today)
    return WalletState(
        settings=settings, points_balance=points_balance, credit_balance=credit_balance,
        converted_today=today, available=baseline.available, cap_left=baseline.cap_left,
        recent=recent_conversions(session, member_id, limit=recent), preview=preview,
    )


def convert_points(
    session: Session, *, member_id: int, points: int, key: str, now: datetime, tz: str,
) -> Conversion:
    """Turn `points` into store credit, atomically. `key` is the member's
    one-time form token: the same key again returns the first conversion and
    changes nothing (whatever points it asks for). `tz` is the club's time zone
    (VAFA_TIMEZONE), whose calendar day the daily cap counts. Raises
    `ConversionRefused`."""
    key = (key or "").strip()
    if not key or len(key) > MAX_KEY:
        raise InvalidConversionKey()
    base = f"{KIND}:{member_id}:{key}"
    member = ledger.lock_member(session, member_id)  # serialises this member's conversions
    first = _entries_of(session, base)
    if first is not None:
        debit, credit = first
        return Conversion(
            points=-debit.amount, credit=credit.amount if credit else 0,
            points_balance=member.points_balance, credit_balance=member.credit_balance,
            created_at=debit.created_at, replayed=True,
        )
    if not member.is_active:
        raise MemberNotActive()
    settings = load_wallet_settings(session)
    preview = preview_conversion(
        settings, points, balance=member.points_balance,
        converted_today=converted_on_day(session, member_id, now, tz),
    )
    if not preview.allowed:
        raise ConversionRefused(preview)
    debit = ledger.post(session, member_id=member_id, currency="points", amount=-preview.points,
                        kind=KIND, key=f"{base}:points", now=now)
    credit = ledger.post(session, member_id=member_id, currency="credit", amount=preview.credit,
                         kind=KIND, key=f"{base}:credit", now=now,
                         source=("ledger_entry", debit.entry.id))
    messages.notify(session, member_id=member_id, kind="credit_converted",
                       params={"points": preview.points, "credit": preview.credit},
                       key=f"{base}:inbox", now=now)
    return Conversion(
        points=preview.points, credit=preview.credit, points_balance=debit.balance,
        credit_balance=credit.balance, created_at=now, replayed=False,
    )


def _entries_of(session: Session, base: str) -> tuple[LedgerEntry, LedgerEntry | None] | None:
    rows = session.scalars(
        select(LedgerEntry).where(LedgerEntry.idempotency_key.in_([f"{base}:points", f"{base}:credit"]))
    ).all()
    by_key = {row.idempotency_key: row for row in rows}
    debit = by_key.get(f"{base}:points")
    return None if debit is None else (debit, by_key.get(f"{base}:credit"))


def recent_conversions(session: Session, member_id: int, *, limit: int = 10) -> list[ConversionLine]:
    debits = session.scalars(
        select(LedgerEntry)
        .where(LedgerEntry.member_id == member_id, LedgerEntry.currency == "points",
               LedgerEntry.kind == KIND)
        .order_by(LedgerEntry.id.desc())
        .limit(limit)
    ).all()
    credit_keys = [_credit_key(d.idempotency_key) for d in debits]
    credits = dict(session.execute(
        select(LedgerEntry.idempotency_key, LedgerEntry.amount)
        .where(LedgerEntry.idempotency_key.in_(credit_keys))
    ).all()) if credit_keys else {}
    return [
        ConversionLine(d.created_at, -d.amount, credits.get(_credit_key(d.idempotency_key), 0))
        for d in debits
    ]


def _credit_key(points_key: str) -> str:
    return points_key.removesuffix(":points") + ":credit"
