"""/raffles and /contests for a returning member with the caches warm: a few
statements (the member's row with the configuration version, then the member's
own entries), none from a template, the same whatever others enter; and what
staff change shows on the next request."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from tests.factories import buy_tickets, make_quiz, make_raffle
from tests.helpers.web import in_db, sign_in_new_member
from webapp.models import Contest, Raffle
from webapp.services.members import audit
from webapp.services.play import contest_play, contest_results, contests, raffles

MAX_STATEMENTS = 4  # issue 14: a member page for a returning member, caches warm


def _drawn(session, now, name, member_id):
    then = now - timedelta(days=3)
    raffle_id = make_raffle(session, then, name_en=name)
    buy_tickets(session, raffle_id, member_id, 2, then)
    raffles.freeze_entries(session, raffle_id, now)
    raffles.draw_winners(session, raffle_id, now)
    raffles.award_prizes(session, raffle_id, now)
    session.commit()
    return raffle_id


@pytest.fixture
def club(app, client, make_member):
    """Demo-like play data: raffles open, closed, drawn and past their close;
    quizzes open, upcoming, closed and finalised; a member who entered some."""
    member = sign_in_new_member(client, make_member, 5_000)
    now = datetime.now(UTC)

    def build(session):
        ids = {}
        for n, days in enumerate((2, 5, 9)):
            ids[f"open{n}"] = make_raffle(session, now, name_en=f"Open raffle {n}",
                                          closes_at=now + timedelta(days=days),
                                          draw_at=now + timedelta(days=days, hours=1))
        ids["free"] = make_raffle(session, now, name_en="Free raffle", ticket_price=0)
        buy_tickets(session, ids["open0"], member.id, 3, now)
        buy_tickets(session, ids["open2"], member.id, 1, now)
        ids["drawn0"] = _drawn(session, now, "Drawn raffle 0", member.id)
        ids["drawn1"] = _drawn(session, now, "Drawn raffle 1", make_member(points=100).id)
        ids["closed"] = make_raffle(session, now - timedelta(days=3), name_en="Closed raffle",
                                    draw_at=now + timedelta(days=1))
        raffles.freeze_entries(session, ids["closed"], now)
        ids["late"] = make_raffle(session, now - timedelta(days=3), name_en="Late raffle")  # the close job is late
        session.commit()

        open_quiz = make_quiz(session, now)
        contest_play.start_attempt(session, contest_id=open_quiz.id, member_id=member.id, now=now)
        make_quiz(session, now, opens=now + timedelta(days=1), closes=now + timedelta(days=2))
        make_quiz(session, now - timedelta(days=2))  # closed, not finalised yet
        then = now - timedelta(days=4)
        finished = make_quiz(session, then)
        contest_play.start_attempt(session, contest_id=finished.id, member_id=member.id, now=then)
        session.commit()
        contest_results.finalise_contest(session, finished.id, now=now)
        session.commit()
        ids["open_quiz"], ids["finished_quiz"] = open_quiz.id, finished.id
        return ids

    return member, in_db(app, build)


def warm_statements(client, count_queries, url):
    assert client.get(url).status_code == 200  # fills the caches
    with count_queries() as statements:
        answer = client.get(url)
    assert answer.status_code == 200
    return statements, answer.get_data(as_text=True)


def section(html, section_id):
    start = html.index(f'id="{section_id}"')
    return html[start:html.index("</section>", start)]


def card(html, raffle_id):
    start = html.index(f'id="raffle-{raffle_id}"')
    end = html.find('class="card raffle-item"', start)
    return html[start:end if end > 0 else None]


def test_raffles_takes_two_statements_for_a_returning_member(client, club, count_queries):
    _member, ids = club
    statements, html = warm_statements(client, count_queries, "/raffles")

    # the member with the configuration version; the member's own tickets
    assert len(statements) <= MAX_STATEMENTS and len(statements) == 2, statements
    assert "raffle_entry" in statements[1] and "member_id" in statements[1]
    assert "count(" not in statements[1].lower() and "sum(" not in statements[1].lower()
    opened, past = section(html, "raffles-open"), section(html, "raffles-past")
    assert [name for name in ("Open raffle 0", "Free raffle", "Open raffle 1", "Open raffle 2")
            if name in opened] == ["Open raffle 0", "Free raffle", "Open raffle 1", "Open raffle 2"]
    for name in ("Drawn raffle 0", "Drawn raffle 1", "Closed raffle", "Late raffle"):
        assert name in past and name not in opened
    assert '<dd class="raffle-my-tickets"><bdi>3</bdi>' in card(html, ids["open0"])
    assert '<dd class="raffle-my-tickets"><bdi>0</bdi>' in card(html, ids["open1"])
    assert '<dd class="raffle-my-tickets"><bdi>2</bdi>' in card(html, ids["drawn0"])


def test_what_raffles_reads_does_not_grow_with_other_members_tickets(app, client, club, make_member,
                                                                     count_queries):
    _member, ids = club
    before, _html = warm_statements(client, count_queries, "/raffles")

    def others_buy(session):
        now = datetime.now(UTC)
        for n in range(10):
            buy_tickets(session, ids["open1"], make_member(points=100).id, n + 1, now)

    in_db(app, others_buy)
    with count_queries() as after:  # tickets are no new configuration: still warm
        assert client.get("/raffles").status_code == 200
    assert len(after) == len(before) == 2, after


def test_contests_takes_two_statements_for_a_returning_member(client, club, count_queries):
    _member, ids = club
    statements, html = warm_statements(client, count_queries, "/contests")

    # the member with the configuration version; the member's entries (list and streak)
    assert len(statements) <= MAX_STATEMENTS and len(statements) == 2, statements
    assert "contest_entry" in statements[1] and "member_id" in statements[1]
    assert "The quiz" in section(html, "contests-open") and "You took part" in section(html, "contests-open")
    assert "The quiz" in section(html, "contests-upcoming")
    finished = section(html, "contests-finished")
    assert finished.count('class="contest-item"') == 2 and "Your rank: 1" in finished
    assert "You have played 1 day in a row." in html


def test_a_raffle_renamed_by_staff_shows_on_the_next_request(app, client, club):
    _member, ids = club
    assert "Open raffle 1" in client.get("/raffles").get_data(as_text=True)

    def rename(session):
        spec = raffles.spec_of(session, session.get(Raffle, ids["open1"]))
        raffles.update_raffle(session, ids["open1"], replace(spec, name_en="Spring raffle"), actor=audit.CLI,
                              now=datetime.now(UTC))
        session.commit()

    in_db(app, rename)
    html = client.get("/raffles").get_data(as_text=True)
    assert "Spring raffle" in html and "Open raffle 1" not in html


def test_a_contest_renamed_by_staff_shows_on_the_next_request(app, client, club):
    _member, ids = club
    assert "Summer quiz" not in client.get("/contests").get_data(as_text=True)

    def rename(session):
        contest = session.get(Contest, ids["open_quiz"])
        spec = contests.ContestSpec(kind=contest.kind, name_fa=contest.name_fa, name_en="Summer quiz",
                                    opens_at=contest.opens_at, closes_at=contest.closes_at,
                                    entry_cost=contest.entry_cost, settings=dict(contest.settings))
        contests.update_contest(session, contest.id, spec, actor=audit.CLI, now=datetime.now(UTC))
        session.commit()

    in_db(app, rename)
    assert "Summer quiz" in section(client.get("/contests").get_data(as_text=True), "contests-open")
