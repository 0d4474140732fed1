"""Club program settings: the base earn rule and points expiry (owner-editable)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import datetime

from sqlalchemy.orm import Session

from webapp.models import ClubSetting
from webapp.services import config_cache
from webapp.services.errors import DomainError
from webapp.services.members import audit


@dataclass(frozen=True)
class EarnSettings:
    """`earn_points` points for every full `earn_per_amount` of a purchase
    (in the smallest money unit). Default: 1 point per 10,000 rials."""

    earn_points: int = 1
    earn_per_amount: int = 10_000
    points_expiry_days: int = 365  # 0: points never expire
    earn_enabled: bool = True

    def points_for(self, amount: int) -> int:
        if not self.earn_enabled or amount <= 0:
            return 0
        return (amount // self.earn_per_amount) * self.earn_points


KEY = "earn"


def load_setting(session: Session, key: str, cls):
    """The dataclass stored under `key`, defaults for what is missing or unknown
    (a frozen snapshot, cached per process and configuration version)."""
    return config_cache.cached(session, f"setting:{key}:{cls.__qualname__}", lambda s: _read_setting(s, key, cls))


def _read_setting(session: Session, key: str, cls):
    row = session.get(ClubSetting, key)
    if row is None or not isinstance(row.value, dict):
        return cls()
    known = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in row.value.items() if k in known})


def store_setting(session: Session, key: str, old, new, *, actor: audit.Actor, now: datetime) -> None:
    """Upsert `new` under `key`; a real change is audited as `settings.<key>`."""
    row = session.get(ClubSetting, key)
    if row is None:
        session.add(ClubSetting(key=key, value=asdict(new), updated_at=now))
    else:
        row.value = asdict(new)
        row.updated_at = now
    session.flush()
    if old != new:
        audit.record(session, actor, f"settings.{key}", "club_setting", key, now=now,
                     before=asdict(old), after=asdict(new))


def load_earn_settings(session: Session) -> EarnSettings:
    return load_setting(session, KEY, EarnSettings)


def validate(settings: EarnSettings) -> None:
    if not 0 <= settings.earn_points <= 1_000_000:
        raise DomainError("Points per step must be between 0 and 1,000,000.")
    if not 1 <= settings.earn_per_amount <= 10**12:
        raise DomainError("The purchase step must be at least 1.")
    if not 0 <= settings.points_expiry_days <= 3650:
        raise DomainError("Expiry must be between 0 (never) and 3650 days.")


def save_earn_settings(
    session: Session, new: EarnSettings, *, actor: audit.Actor, now: datetime
) -> EarnSettings:
    validate(new)
    store_setting(session, KEY, load_earn_settings(session), new, actor=actor, now=now)
    return new
