"""Partner vouchers: codes a partner gives the club, uploaded by staff and handed
to coupons one each (a reward's stock is its free codes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from webapp.models import Reward, VoucherCode
from webapp.services.errors import NotFound
from webapp.services.members import audit
from webapp.services.offers.reward_errors import OutOfStock, RewardInvalid

MAX_VOUCHER_CODES = 10_000  # per upload


def free_codes(session: Session, reward_id: int) -> int:
    return session.scalar(select(func.count()).select_from(VoucherCode).where(
        VoucherCode.reward_id == reward_id, VoucherCode.coupon_id.is_(None))) or 0


def parse_voucher_codes(text: str) -> list[str]:
    """One code per line, or CSV (the first column); blanks, a header line
    named 'code', and repeats within the upload dropped."""
    seen: dict[str, None] = {}
    for line in text.replace("\r", "\n").split("\n"):
        first = line.split(",")[0].split(";")[0].split("\t")[0].strip().strip('"').strip()
        if first and first.lower() != "code":
            seen.setdefault(first, None)
    return list(seen)


@dataclass(frozen=True)
class CodeUpload:
    added: int
    duplicates: int  # already uploaded for this reward
    invalid: list[str]  # too long
    free: int  # free codes now


def add_voucher_codes(
    session: Session, reward_id: int, codes: list[str], *, actor: audit.Actor, now: datetime,
) -> CodeUpload:
    """Add partner codes; stock grows by the number added (under the reward's row lock)."""
    reward = session.scalar(select(Reward).where(Reward.id == reward_id).with_for_update())
    if reward is None:
        raise NotFound("Reward not found.", reward_id=reward_id)
    if reward.kind != "partner_voucher":
        raise RewardInvalid({"codes": "Only partner vouchers take uploaded codes."})
    if len(codes) > MAX_VOUCHER_CODES:
        raise RewardInvalid({"codes": f"At most {MAX_VOUCHER_CODES} codes per upload."})
    invalid = [c for c in codes if len(c) > 64]
    wanted = [c for c in codes if len(c) <= 64]
    existing = set()
    for start in range(0, len(wanted), 500):
        existing |= set(session.scalars(select(VoucherCode.code).where(
            VoucherCode.reward_id == reward_id, VoucherCode.code.in_(wanted[start:start + 500]))))
    new = [c for c in wanted if c not in existing]
    if new:
        session.execute(VoucherCode.__table__.insert(),
                        [{"reward_id": reward_id, "code": c, "created_at": now} for c in new])
    session.execute(update(Reward).where(Reward.id == reward_id)
                    .values(stock=func.coalesce(Reward.stock, 0) + len(new), updated_at=now)
                    .execution_options(synchronize_session=False))
    session.expire(reward, ["stock", "updated_at"])
    free = free_codes(session, reward_id)
    audit.record(session, actor, "reward.codes_upload", "reward", reward_id, now=now,
                 after={"added": len(new), "duplicates": len(existing), "invalid": len(invalid), "free": free})
    return CodeUpload(added=len(new), duplicates=len(existing), invalid=invalid, free=free)


def claim_partner_code(session: Session, reward_id: int, coupon_id: int) -> str:
    """Hand the coupon the oldest free code. The UPDATE only takes a code that
    is still free, so two claims can never get the same one; a lost race tries the next."""
    for _attempt in range(5):
        candidate = session.scalar(select(VoucherCode.id).where(
            VoucherCode.reward_id == reward_id, VoucherCode.coupon_id.is_(None)).order_by(VoucherCode.id).limit(1))
        if candidate is None:
            break
        code = session.execute(
            update(VoucherCode).where(VoucherCode.id == candidate, VoucherCode.coupon_id.is_(None))
            .values(coupon_id=coupon_id).returning(VoucherCode.code)
            .execution_options(synchronize_session=False)
        ).scalar_one_or_none()
        if code is not None:
            return code
    raise OutOfStock(reward_id=reward_id)
