"""SQL expressions the set-based tier statements share (the program change, the
preview, the nightly evaluation)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, and_, case, cast, func, literal, or_
from sqlalchemy.orm import Session

from webapp.models import Member
from webapp.models.types import UTCDateTime


def sql_time(now: datetime):
    return literal(now, UTCDateTime())


def not_negative(expr):
    return case((expr < 0, 0), else_=expr)


def rank_for(metric, levels) -> object:
    """CASE over thresholds: the rank a metric qualifies for."""
    whens = [(metric >= lv.threshold, lv.rank) for lv in reversed(levels) if lv.rank > 0]
    return case(*whens, else_=0) if whens else literal(0)


def level_id_for(metric, levels) -> object:
    whens = [(metric >= lv.threshold, lv.id) for lv in reversed(levels) if lv.rank > 0]
    return case(*whens, else_=levels[0].id) if whens else literal(levels[0].id)


def rank_held(levels) -> object:
    """The rank of the level the member holds (-1: never evaluated)."""
    return case({lv.id: lv.rank for lv in levels}, value=Member.tier_id, else_=-1)


def active_override(now: datetime):
    return and_(Member.tier_override_id.is_not(None),
                or_(Member.tier_override_until.is_(None), Member.tier_override_until > now))


def expire_loaded_members(session: Session) -> None:
    """Bulk UPDATEs skip the identity map: reload members loaded before them."""
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Member):
            session.expire(obj)


def json_object(session: Session, **pairs):
    build = func.json_build_object if session.get_bind().dialect.name == "postgresql" else func.json_object
    args = []
    for name, value in pairs.items():
        args += [cast(literal(name), String), value]
    return build(*args)
