"""The raffle and contest lists come from cached definitions, but the clock is
read per request: a raffle or contest whose close passes moves to the past
without any new configuration version, and the cache is never a stale copy."""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from datetime import timedelta

import pytest

from tests.factories import buy_tickets, make_quiz, make_raffle
from webapp.services.play import contest_list, contest_play, raffles


def names(items):
    return [item.raffle.name_en for item in items]


def test_a_raffle_moves_to_the_past_when_its_close_passes_without_a_new_version(session, make_member, now,
                                                                                  count_queries):
    soon = make_raffle(session, now, name_en="Soon", closes_at=now + timedelta(hours=1),
                       draw_at=now + timedelta(hours=2))
    make_raffle(session, now, name_en="Later", closes_at=now + timedelta(days=3), draw_at=now + timedelta(days=4))
    member = make_member(points=100, now=now)
    buy_tickets(session, soon, member.id, 2, now)

    opened, past = raffles.listing(session, member.id, now)
    assert names(opened) == ["Soon", "Later"] and past == []
    assert [item.my_tickets for item in opened] == [2, 0]
    session.commit()
    with count_queries() as statements:  # the version, then the member's tickets
        opened, past = raffles.listing(session, member.id, now + timedelta(hours=1))
    assert names(opened) == ["Later"] and names(past) == ["Soon"] and past[0].my_tickets == 2
    assert len(statements) == 2, statements


def test_the_cached_raffles_are_immutable_copies(session, now):
    make_raffle(session, now)
    opened, _past = raffles.listing(session, 1, now)
    card = opened[0].raffle
    assert isinstance(card, raffles.RaffleCard) and isinstance(card.prizes, tuple)
    with pytest.raises(FrozenInstanceError):
        card.name_en = "changed"  # type: ignore[misc]


def test_a_contest_moves_from_upcoming_to_open_to_finished_by_the_clock(session, make_member, now, count_queries):
    quiz = make_quiz(session, now, opens=now + timedelta(hours=1), closes=now + timedelta(hours=2))
    member = make_member(now=now)
    session.commit()

    listing = contest_list.member_contests(session, member.id, now, "Asia/Tehran")
    assert [c.id for c, _e in listing.upcoming] == [quiz.id] and listing.open == listing.finished == []
    session.commit()
    contest_play.start_attempt(session, contest_id=quiz.id, member_id=member.id, now=now + timedelta(hours=1))
    session.commit()
    listing = contest_list.member_contests(session, member.id, now + timedelta(hours=1), "Asia/Tehran")
    assert [(c.id, e is not None) for c, e in listing.open] == [(quiz.id, True)] and listing.streak == 1
    session.commit()
    with count_queries() as statements:
        listing = contest_list.member_contests(session, member.id, now + timedelta(hours=2), "Asia/Tehran")
    assert [c.id for c, _e in listing.finished] == [quiz.id] and listing.open == []
    assert len(statements) == 2, statements  # the version, then the member's entries
