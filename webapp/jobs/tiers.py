"""Tier jobs: the nightly evaluation and the daily fee rebates. Both are safe to
run twice: every change they make is keyed by the local day."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webapp.club import club_of
from webapp.extensions import db
from webapp.jobs.context import job_app
from webapp.models import Member, Purchase, utcnow
from webapp.services import ledger, messages, tiers
from webapp.services.settings import load_earn_settings
from webapp.services.tiers.rules import BP


def evaluate_tiers() -> dict:
    """Nightly: re-evaluate every member's tier (set-based) and commit once."""
    with job_app() as app:
        session = db.session
        result = tiers.evaluate_all(session, now=utcnow(), tz=club_of(app.config).timezone)
        session.commit()
        return asdict(result)


def award_fee_rebates(day_iso: str | None = None) -> dict:
    """Daily: rebate part of each member's fees of one local day (default:
    yesterday) as points, at their tier's `fee_rebate_bp`. Keys name the day and
    the member, so a second run awards nothing."""
    with job_app() as app:
        session = db.session
        tz = club_of(app.config).timezone
        now = utcnow()
        day = date.fromisoformat(day_iso) if day_iso else (
            now.astimezone(ZoneInfo(tz)).date() - timedelta(days=1))
        awarded = rebate_fees(session, day=day, now=now, tz=tz)
        session.commit()
        return {"day": day.isoformat(), "members": len(awarded),
                "points": sum(a.points for a in awarded)}


def day_bounds(day: date, tz: str) -> tuple[datetime, datetime]:
    """[local midnight, next local midnight) of a day in the club's time zone."""
    zone = ZoneInfo(tz)
    start = datetime.combine(day, time(), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone)
    return start, end


def rebate_fees(session: Session, *, day: date, now: datetime, tz: str) -> list[ledger.BulkAward]:
    """Points for the fees of `day`: sum(fee) of the member's purchases that day
    (fully refunded ones excepted) × their level's fee_rebate_bp / 10,000, at
    `rebate_money_per_point` money units per point, rounded down. Never commits."""
    program = tiers.load_program(session)
    if program is None or program.rebate_money_per_point <= 0:
        return []
    rate = {lv.id: int(lv.perks.get("fee_rebate_bp") or 0) for lv in program.levels}
    entry_rate = int(program.levels[0].perks.get("fee_rebate_bp") or 0)
    if not any(rate.values()):
        return []
    start, end = day_bounds(day, tz)
    fees = session.execute(
        select(Purchase.member_id, Member.tier_id, func.sum(Purchase.fee))
        .join(Member, Member.id == Purchase.member_id)
        .where(Purchase.occurred_at >= start, Purchase.occurred_at < end, Purchase.fee > 0,
               Purchase.refunded_amount < Purchase.amount, Member.status != "closed")
        .group_by(Purchase.member_id, Member.tier_id)
    ).all()
    rows = []
    for member_id, tier_id, fee in fees:
        bp = rate.get(tier_id, entry_rate)
        points = int(fee) * bp // (BP * program.rebate_money_per_point)
        if points > 0:
            rows.append((member_id, points, f"fee-rebate:{day.isoformat()}:{member_id}"))
    settings = load_earn_settings(session)
    expires = now + timedelta(days=settings.points_expiry_days) if settings.points_expiry_days else None
    awarded = ledger.award_points_bulk(
        session, rows, kind="earn", now=now, expires_at=expires, source_type="fee_rebate",
        created_by="system", description=f"Fee rebate for {day.isoformat()}")
    messages.notify_many(session, [
        {"member_id": a.member_id, "kind": "fee_rebate", "key": a.key,
         "params": {"points": a.points, "day": day.isoformat()}} for a in awarded], now=now)
    return awarded
