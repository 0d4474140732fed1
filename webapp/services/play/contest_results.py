"""Finalising a contest: final ranks from the database, prizes, participation
points and inbox messages, then the contest is marked finalised.

Idempotent: the contest row is locked and its state re-read; ranks are
recomputed from the same rows, so a retry gives the same ranks; every award has
its ledger key (`contest:{id}:prize:{member}`, `contest:{id}:played:{member}`),
every message its inbox key, so a second run awards and posts nothing more.

Ties across a prize cut: everyone who shares a rank gets that rank's prize
(as `games.leaderboard.top` keeps ties in), so e.g. three members tied 3rd
all get the 3rd prize."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, cast, literal, or_, select, update
from sqlalchemy.orm import Session

from games.leaderboard import rank_entries
from webapp.models import Contest, ContestEntry
from webapp.services import ledger, messages
from webapp.services.play import prizes, registry


@dataclass(frozen=True)
class Finalised:
    contest_id: int
    entrants: int
    prizes_awarded: int  # new prize awards in this run
    participation_awarded: int  # new participation awards in this run


def due_contest_ids(session: Session, now: datetime) -> list[int]:
    """Published contests ready to be finalised (per kind: see its adapter)."""
    clauses = [registry.get_type(kind).due_clause(now) for kind in registry.kinds("contest")]
    return list(session.scalars(select(Contest.id).where(Contest.status == "published", or_(*clauses))
                                .order_by(Contest.id)))


def prize_for(prizes: list[dict], rank: int) -> dict | None:
    for prize in prizes:
        if prize["from"] <= rank <= prize["to"]:
            return prize
    return None


def finalise_contest(session: Session, contest_id: int, *, now: datetime) -> Finalised | None:
    """None when there is nothing to do (already finalised, or not ready)."""
    contest = session.scalar(select(Contest).where(Contest.id == contest_id).with_for_update()
                             .execution_options(populate_existing=True))
    if contest is None or contest.status != "published":
        return None
    adapter = registry.get_type(contest.kind)
    if not adapter.ready_to_finalise(contest, now):
        return None
    standings = rank_entries(adapter.final_entries(session, contest))
    entry_ids = dict(session.execute(select(ContestEntry.member_id, ContestEntry.id)
                                     .where(ContestEntry.contest_id == contest.id)).all())
    won: dict[int, dict] = {}
    for standing in standings:
        prize = prize_for(contest.prizes, standing.rank)
        if prize is not None:
            won[standing.entry.member_id] = prize
    prizes_awarded = _award_prizes(session, contest, won, now)
    rows = [{"id": entry_ids[s.entry.member_id], "final_rank": s.rank, "score": s.entry.score,
             "elapsed_ms": s.entry.elapsed_ms, "tie_time": s.entry.submitted_at_ms,
             "prize": won.get(s.entry.member_id)} for s in standings]
    if rows:
        session.execute(update(ContestEntry), rows)
    participation = 0
    if contest.participation_points:
        key = literal(f"contest:{contest.id}:played:") + cast(ContestEntry.member_id, String)
        participation = len(ledger.award_points_from(
            session, select(ContestEntry.member_id, literal(contest.participation_points), key)
            .where(ContestEntry.contest_id == contest.id),
            kind="earn", now=now, expires_at=None, source_type="contest",
            description=f"Played contest {contest.id}"))
    messages.notify_many(session, [
        {"member_id": s.entry.member_id, "kind": "contest_result", "key": f"contest:{contest.id}:result:{s.entry.member_id}",
         "params": {"contest_id": contest.id, "name_fa": contest.name_fa, "name_en": contest.name_en,
                    "rank": s.rank, "score": s.entry.score, "entrants": len(standings),
                    "prize_kind": (won.get(s.entry.member_id) or {}).get("kind"),
                    "prize_amount": (won.get(s.entry.member_id) or {}).get("amount") or 0,
                    "participation": contest.participation_points}}
        for s in standings], now=now)
    contest.status, contest.finalised_at = "finalised", now
    session.flush()
    return Finalised(contest.id, len(standings), prizes_awarded, participation)


def _award_prizes(session: Session, contest: Contest, won: dict[int, dict], now: datetime) -> int:
    """Every rank's prize through `prizes.give_many` (points set-based); a
    reward out of stock is skipped and shows as not issued."""
    key = f"contest:{contest.id}:prize:"
    awards = [prizes.Award(member_id, prize["kind"], f"{key}{member_id}", amount=prize.get("amount") or 0,
                           reward_id=prize.get("reward_id")) for member_id, prize in won.items()]
    given = prizes.give_many(session, awards, now=now, source=("contest", contest.id),
                             description=f"Prize in contest {contest.id}", expiring=False)
    awarded = 0
    for award, result in zip(awards, given, strict=True):
        if not result.issued:
            won[award.member_id] = {**won[award.member_id], "issued": False}
        awarded += result.issued and not result.replayed
    return awarded
