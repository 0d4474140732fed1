"""/admin/raffles: offer staff only, a draft with club-local times and prize
lines, publish (the commitment appears), fixed fields once published, the
public value after the close, draw now through the worker, cancel with
refunds; every write audited; bad input is a form error, never a 500."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from tests.factories import buy_tickets, make_raffle
from tests.helpers.web import in_db, post_form
from tests.helpers.web import sign_in_staff as sign_in
from webapp.models import AuditLog, Raffle
from webapp.services import ledger
from webapp.services.play import raffles

TEHRAN = ZoneInfo("Asia/Tehran")


def form(**changes) -> dict:
    later = datetime.now(TEHRAN).date() + timedelta(days=7)
    data = {"name_fa": "قرعه‌کشی زمستان", "name_en": "Winter raffle", "description_fa": "", "description_en": "",
            "prizes-0-name_fa": "۵۰۰ امتیاز", "prizes-0-name_en": "500 points", "prizes-0-quantity": "۲",
            "prizes-0-kind": "points", "prizes-0-amount": "500", "prizes-0-reward": "",
            "prizes-1-name_fa": "دوچرخه", "prizes-1-name_en": "A bicycle", "prizes-1-quantity": "1",
            "prizes-1-kind": "physical", "prizes-1-amount": "", "prizes-1-reward": "",
            "ticket_price": "۲۵", "max_tickets_per_member": "10", "min_tier": "", "segment": "",
            "closes_on": later.isoformat(), "closes_time": "18:00", "draw_on": later.isoformat(),
            "draw_time": "۲۰:۳۰", "alternates": "2", "public_value_source": ""}
    for n in range(2, 5):
        data |= {f"prizes-{n}-name_fa": "", f"prizes-{n}-name_en": "", f"prizes-{n}-quantity": "",
                 f"prizes-{n}-kind": "points", f"prizes-{n}-amount": "", f"prizes-{n}-reward": ""}
    return {**data, **changes}


def raffle_rows(app):
    return in_db(app, lambda s: list(s.scalars(select(Raffle).order_by(Raffle.id))))


def audits(app):
    return in_db(app, lambda s: list(s.scalars(select(AuditLog.action).where(AuditLog.object_type == "raffle")
                                               .order_by(AuditLog.id))))


@pytest.mark.parametrize("role,allowed", [("owner", True), ("marketer", True), ("operator", False),
                                          ("auditor", False)])
def test_only_offer_staff_open_the_raffle_pages(client, make_staff, role, allowed):
    sign_in(client, make_staff(role))
    for url in ("/admin/raffles", "/admin/raffles/new"):
        assert client.get(url).status_code == (200 if allowed else 403)


def test_a_marketer_defines_publishes_and_the_fixed_fields_stay(app, client, marketer):
    answer = post_form(client, "/admin/raffles/new", form())
    assert answer.status_code == 302
    [raffle] = raffle_rows(app)
    assert raffle.status == "draft" and raffle.ticket_price == 25
    assert raffle.closes_at == datetime.combine(datetime.now(TEHRAN).date() + timedelta(days=7),
                                                datetime.min.time().replace(hour=18), TEHRAN).astimezone(UTC)
    assert [(p.quantity, p.kind, p.amount) for p in in_db(app, lambda s: raffles.prizes_of(s, raffle.id))] == [
        (2, "points", 500), (1, "physical", 0)]
    url = f"/admin/raffles/{raffle.id}"
    assert post_form(client, f"{url}/publish", {}, form_url=url).status_code == 302
    [raffle] = raffle_rows(app)
    assert raffle.status == "open" and raffle.commitment in client.get(url).get_data(as_text=True)
    # a crafted post cannot change the price; texts still change
    post_form(client, url, form(ticket_price="1", name_en="Winter raffle 2"))
    [raffle] = raffle_rows(app)
    assert raffle.ticket_price == 25 and raffle.name_en == "Winter raffle 2"
    assert audits(app) == ["raffle.create", "raffle.publish", "raffle.update"]


@pytest.mark.parametrize("changes,error", [
    ({"name_en": ""}, "name_en-error"),
    ({"ticket_price": "abc"}, "ticket_price-error"),
    ({"closes_on": "1405-13-40"}, "closes_on-error"),
    ({"draw_time": "25:00"}, "draw_time-error"),
    ({"draw_on": "2000-01-01"}, "draw_time-error"),
    ({"prizes-0-amount": ""}, "prizes-0-amount-error"),
    ({"prizes-0-kind": "reward"}, "prizes-0-reward-error"),
    ({"prizes-0-name_fa": "", "prizes-0-name_en": "", "prizes-1-name_fa": "", "prizes-1-name_en": ""}, "form-errors"),
])
def test_bad_input_is_a_form_error(app, client, marketer, changes, error):
    answer = post_form(client, "/admin/raffles/new", form(**changes))
    assert answer.status_code == 422 and f'id="{error}"' in answer.get_data(as_text=True)
    assert raffle_rows(app) == []


def test_public_value_then_draw_now_through_the_worker(app, client, marketer, make_member, run_worker):
    start = datetime.now(UTC) - timedelta(days=1)
    with app.app_context():
        from webapp.extensions import db

        raffle_id = make_raffle(db.session, start, closes_at=datetime.now(UTC) - timedelta(minutes=1),
                                draw_at=datetime.now(UTC) + timedelta(days=1), public_value_source="drand round 9")
        buy_tickets(db.session, raffle_id, make_member(points=100, now=start).id, 3, start)
    url = f"/admin/raffles/{raffle_id}"
    page = client.get(url).get_data(as_text=True)
    assert 'id="raffle-draw"' not in page  # the public value comes first
    assert post_form(client, f"{url}/draw", {}, form_url=url).status_code == 302
    assert raffle_rows(app)[0].draw_requested_at is None
    assert post_form(client, f"{url}/public-value", {"public_value": "f00d"}, form_url=url).status_code == 302
    assert post_form(client, f"{url}/draw", {}, form_url=url).status_code == 302
    run_worker()
    [raffle] = raffle_rows(app)
    assert raffle.status == "drawn" and raffle.public_value == "f00d" and raffle.awarded_at is not None
    assert 'id="raffle-winners"' in client.get(url).get_data(as_text=True)
    assert audits(app)[-2:] == ["raffle.public_value", "raffle.draw_now"]


def test_cancel_refunds_and_an_action_without_csrf_is_refused(app, client, marketer, make_member):
    start = datetime.now(UTC)
    member = make_member(points=100, now=start)
    with app.app_context():
        from webapp.extensions import db

        raffle_id = make_raffle(db.session, start)
        buy_tickets(db.session, raffle_id, member.id, 4, start)
    url = f"/admin/raffles/{raffle_id}"
    assert client.post(f"{url}/cancel", data={"reason": "x"}).status_code == 400
    assert raffle_rows(app)[0].status == "open"
    assert post_form(client, f"{url}/cancel", {"reason": "Prize supplier withdrew"}, form_url=url).status_code == 302
    assert raffle_rows(app)[0].status == "cancelled"
    assert in_db(app, lambda s: ledger.balance_of(s, member.id, "points")) == 100
    assert audits(app)[-1] == "raffle.cancel"


def test_persian_staff_see_jalali_days(app, client, make_staff):
    from tests.helpers.web import csrf_token

    sign_in(client, make_staff("owner"))
    token = csrf_token(client, "/admin/raffles")
    client.post("/admin/locale", data={"csrf_token": token, "locale": "fa", "next": "/admin/raffles"})
    post_form(client, "/admin/raffles/new", form(closes_on="1405-10-01", draw_on="1405-10-02"))
    [raffle] = raffle_rows(app)
    page = client.get(f"/admin/raffles/{raffle.id}").get_data(as_text=True)
    assert 'value="1405-10-01"' in page and 'value="1405-10-02"' in page
