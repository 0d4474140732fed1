"""/raffles, /raffles/<id> and the public verification page: buying with the
one-time token (htmx and plain), a double submit buying once, bad input as a
form error, CSRF, members never seeing each other's entry, both locales; and
the downloaded entry file re-run through the verifier gives the published winners."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

import games.raffle as engine
from tests.factories import SEED, buy_tickets, make_raffle, prize
from tests.helpers.web import MEMBER_PASSWORD, form_token, post_form, sign_in_new_member
from webapp.extensions import db
from webapp.models import Raffle, RaffleTickets
from webapp.services import ledger
from webapp.services.play import raffles

PASSWORD = MEMBER_PASSWORD
HX = {"HX-Request": "true"}


def sign_in(client, make_member, points=1_000, **kw):
    return sign_in_new_member(client, make_member, points, **kw)


def open_raffle(app, **kw):
    with app.app_context():
        return make_raffle(db.session, datetime.now(UTC), **kw)


def buy_form(client, raffle_id, quantity, token=None, **kwargs):
    url = f"/raffles/{raffle_id}"
    token = token or form_token(client.get(url).get_data(as_text=True))
    return post_form(client, f"{url}/buy", {"quantity": quantity, "token": token}, form_url=url, **kwargs), token


def tickets_of(app, raffle_id, member_id):
    with app.app_context():
        entry = raffles.entry_of(db.session, raffle_id, member_id)
        return entry.tickets if entry else 0


def test_the_list_shows_open_raffles_with_my_tickets(app, client, make_member):
    raffle_id = open_raffle(app)
    member = sign_in(client, make_member)
    buy_form(client, raffle_id, "2")
    html = client.get("/raffles").get_data(as_text=True)
    assert "Autumn raffle" in html and 'class="games-tabs"' in html
    item = html[html.index(f'id="raffle-{raffle_id}"'):]
    assert '<dd class="raffle-my-tickets"><bdi>2</bdi>' in item
    assert tickets_of(app, raffle_id, member.id) == 2


def test_buying_without_javascript_redirects_and_a_double_submit_buys_once(app, client, make_member):
    raffle_id = open_raffle(app)
    member = sign_in(client, make_member)
    first, token = buy_form(client, raffle_id, "3")
    again, _token = buy_form(client, raffle_id, "3", token=token)
    assert first.status_code == again.status_code == 302
    assert tickets_of(app, raffle_id, member.id) == 3
    with app.app_context():
        assert ledger.balance_of(db.session, member.id, "points") == 970
    html = client.get(f"/raffles/{raffle_id}").get_data(as_text=True)
    assert 'id="raffle-entry-id"' in html and "100%" in html


def test_buying_with_htmx_swaps_my_tickets_and_the_balance(app, client, make_member):
    raffle_id = open_raffle(app)
    sign_in(client, make_member)
    answer, _token = buy_form(client, raffle_id, "4", headers=HX)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200 and answer.headers["HX-Trigger"] == "pointsChanged"
    assert html.lstrip().startswith('<div id="raffle-mine"') and "<html" not in html
    assert '<dd id="raffle-my-tickets"><bdi>4</bdi>' in html and '<bdi>960</bdi>' in html


@pytest.mark.parametrize("quantity", ["0", "-3", "abc", "", "99999999999"])
def test_bad_quantities_are_form_errors_not_500(app, client, make_member, quantity):
    raffle_id = open_raffle(app)
    member = sign_in(client, make_member)
    answer, _token = buy_form(client, raffle_id, quantity)
    assert answer.status_code == 422 and 'id="quantity-error"' in answer.get_data(as_text=True)
    assert tickets_of(app, raffle_id, member.id) == 0


def test_over_the_cap_or_the_balance_is_said_on_the_form(app, client, make_member):
    raffle_id = open_raffle(app, max_tickets_per_member=5)
    sign_in(client, make_member, points=30)
    answer, _token = buy_form(client, raffle_id, "6")
    assert answer.status_code == 422 and "more tickets than one member may have" in answer.get_data(as_text=True)
    answer, _token = buy_form(client, raffle_id, "4")
    assert answer.status_code == 422 and "do not have enough points" in answer.get_data(as_text=True)


def test_a_buy_without_the_csrf_token_is_refused(app, client, make_member):
    raffle_id = open_raffle(app)
    member = sign_in(client, make_member)
    answer = client.post(f"/raffles/{raffle_id}/buy", data={"quantity": "2", "token": "x"})
    assert answer.status_code in (400, 422)
    assert tickets_of(app, raffle_id, member.id) == 0


def test_members_never_see_each_others_entry(app, client, make_member):
    raffle_id = open_raffle(app)
    owner = make_member(points=1_000)
    with app.app_context():
        theirs = buy_tickets(db.session, raffle_id, owner.id, 5, datetime.now(UTC)).entry.code
    sign_in(client, make_member)
    html = client.get(f"/raffles/{raffle_id}").get_data(as_text=True)
    assert theirs not in html and 'id="raffle-entry-id"' not in html
    assert '<dd id="raffle-total"><bdi>5</bdi>' in html
    assert theirs not in client.get(f"/raffles/{raffle_id}/verify").get_data(as_text=True)


def test_drafts_and_unknown_raffles_are_not_found(app, client, make_member):
    draft = open_raffle(app, publish=False)
    sign_in(client, make_member)
    for url in (f"/raffles/{draft}", f"/raffles/{draft}/verify", "/raffles/999999", "/raffles/99999999999/verify",
                f"/raffles/{draft}/entries.txt"):
        assert client.get(url).status_code == 404, url


def test_raffle_pages_need_a_member_but_verification_is_public(app, client):
    raffle_id = open_raffle(app)
    assert client.get("/raffles").status_code == 302
    assert client.get(f"/raffles/{raffle_id}").status_code == 302
    html = client.get(f"/raffles/{raffle_id}/verify").get_data(as_text=True)
    assert "Published at the close" in html and "Revealed with the result" in html
    assert client.get(f"/raffles/{raffle_id}/entries.txt").status_code == 404  # not frozen yet


def test_both_locales_render(app, client, make_member):
    raffle_id = open_raffle(app)
    sign_in(client, make_member, locale="fa")
    buy_form(client, raffle_id, "2")
    for url in ("/raffles", f"/raffles/{raffle_id}", f"/raffles/{raffle_id}/verify"):
        html = client.get(url).get_data(as_text=True)
        assert 'dir="rtl"' in html and "قرعه‌کشی" in html, url
    assert "۲" in client.get(f"/raffles/{raffle_id}").get_data(as_text=True)


def test_a_ticket_coupon_is_used_from_the_raffle_page(app, client, make_member):
    from webapp.services.members import audit
    from webapp.services.offers import rewards

    raffle_id = open_raffle(app, ticket_price=0)
    member = sign_in(client, make_member)
    with app.app_context():
        reward = rewards.save_reward(db.session, rewards.RewardData(
            kind="raffle_tickets", name_fa="بلیت", name_en="Tickets", cost_points=0, value=3, status="active"),
            actor=audit.CLI, now=datetime.now(UTC))
        coupon = rewards.grant_reward(db.session, member_id=member.id, reward_id=reward.id, key="gift",
                                      now=datetime.now(UTC))
        db.session.commit()
        coupon_id = coupon.id
    url = f"/raffles/{raffle_id}"
    assert "Add 3 free tickets" in client.get(url).get_data(as_text=True)
    answer = post_form(client, f"{url}/coupon", {"coupon": coupon_id}, form_url=url)
    assert answer.status_code == 302 and tickets_of(app, raffle_id, member.id) == 3
    assert "Add 3 free tickets" not in client.get(url).get_data(as_text=True)


def test_the_downloaded_entry_file_and_revealed_seed_give_the_published_winners(app, client, make_member, tmp_path):
    start = datetime.now(UTC) - timedelta(days=2)
    with app.app_context():
        raffle_id = make_raffle(db.session, start, prizes=(prize(quantity=2),), alternates=1,
                                closes_at=datetime.now(UTC) - timedelta(hours=2),
                                draw_at=datetime.now(UTC) - timedelta(hours=1))
        for n in range(8):
            buy_tickets(db.session, raffle_id, make_member(points=1_000, now=start).id, n + 1, start)
        now = datetime.now(UTC)
        for step in (raffles.freeze_entries, raffles.draw_winners, raffles.award_prizes):
            step(db.session, raffle_id, now)
            db.session.commit()
        published = [w.entry_code for w in raffles.winners(db.session, raffle_id)]
        commitment = db.session.get(Raffle, raffle_id).commitment

    page = client.get(f"/raffles/{raffle_id}/verify").get_data(as_text=True)
    assert SEED.hex() in page and commitment in page and all(code in page for code in published)
    command = re.search(r'<pre[^>]*id="verify-command"><code>([^<]+)</code>', page).group(1).split()
    download = client.get(f"/raffles/{raffle_id}/entries.txt")
    assert download.status_code == 200 and download.headers["Content-Type"].startswith("text/plain")
    path = tmp_path / command[4]
    path.write_bytes(download.data)

    def run(file_path, args):
        from contextlib import redirect_stdout
        from io import StringIO

        out = StringIO()
        with redirect_stdout(out):
            status = engine.main(["verify", str(file_path), *args])
        lines = out.getvalue().splitlines()
        return status, [line.split(": ")[1] for line in lines if line.startswith(("winner", "alternate"))]

    args = command[5:]
    assert run(path, args) == (0, published)
    # one entry's tickets changed → another draw
    first_line = download.data.split(b"\n")[0]
    code, count = first_line.split(b" ")
    changed = tmp_path / "changed.txt"
    changed.write_bytes(download.data.replace(first_line + b"\n", code + b" " + str(int(count) + 1).encode() + b"\n", 1))
    altered = [a for a in args if a != commitment and a != "--commitment"]
    assert run(changed, altered)[1] != published
    # another seed → another draw (and the commitment check refuses it)
    seed_at = args.index("--seed") + 1
    other_seed = [*args[:seed_at], "11" * 32, *args[seed_at + 1:]]
    assert run(path, other_seed)[0] == 1
    assert run(path, [a for a in other_seed if a not in (commitment, "--commitment")])[1] != published
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RaffleTickets)) == 8


def test_a_refused_htmx_buy_is_said_inside_the_swapped_part(app, client, make_member):
    raffle_id = open_raffle(app, max_tickets_per_member=2)
    member = sign_in(client, make_member)
    answer, _token = buy_form(client, raffle_id, "3", headers=HX)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "<html" not in html  # htmx swaps 2xx answers only
    assert 'id="quantity-error"' in html and "more tickets than one member may have" in html
    assert tickets_of(app, raffle_id, member.id) == 0
