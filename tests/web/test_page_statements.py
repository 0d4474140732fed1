"""What a returning member's page costs the database: a fixed, small number of
statements (the club's configuration comes from the process's cache), none of
them fired while a template renders. Measured on the demo club, which has a
tier program, earn rules, rewards, challenges, contests, raffles and invites."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from flask import before_render_template, template_rendered

from tests.helpers.web import log_in

MOST = 4
PAGES = ["/me", "/rewards", "/me/tier", "/me/challenges", "/me/activity"]


@pytest.fixture
def demo_member(app, client, now):
    from webapp.demo import DEMO_PASSWORD, load_demo_data
    from webapp.extensions import db

    with app.app_context():
        load_demo_data(db.session, now=now)
        db.session.commit()
    log_in(client, "sara@demo.vafa", DEMO_PASSWORD)
    return client


@contextmanager
def while_rendering(app):
    """A list that holds True while any template renders (signals bracket it)."""
    state = [False]

    def started(*_a, **_k):
        state[0] = True

    def finished(*_a, **_k):
        state[0] = False

    before_render_template.connect(started, app)
    template_rendered.connect(finished, app)
    try:
        yield state
    finally:
        before_render_template.disconnect(started, app)
        template_rendered.disconnect(finished, app)


@pytest.mark.parametrize("page", PAGES)
def test_a_returning_members_page_takes_at_most_four_statements(app, demo_member, count_queries, page):
    assert demo_member.get(page).status_code == 200  # the first visit fills the caches
    with count_queries() as statements:
        response = demo_member.get(page)
    assert response.status_code == 200
    assert len(statements) <= MOST, "\n".join(statements)


@pytest.mark.parametrize("page", PAGES)
def test_no_statement_is_fired_from_a_template(app, demo_member, db, page):
    from sqlalchemy import event

    fired = []
    with while_rendering(app) as rendering:
        def record(_conn, _cursor, statement, *_args):
            if rendering[0]:
                fired.append(statement)

        event.listen(db.engine, "before_cursor_execute", record)
        try:
            demo_member.get(page)
            assert demo_member.get(page).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
    assert fired == []


def test_an_edit_committed_elsewhere_shows_on_the_next_page(app, demo_member):
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models import Reward

    assert "Renamed reward" not in demo_member.get("/rewards").get_data(as_text=True)  # cached now
    with app.app_context():  # another session, as a staff request would be
        reward = db.session.scalars(select(Reward).where(Reward.status == "active")).first()
        reward.name_fa = reward.name_en = "Renamed reward"
        db.session.commit()
    assert "Renamed reward" in demo_member.get("/rewards").get_data(as_text=True)
