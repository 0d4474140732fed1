"""Finding members, their detail page, and staff adjustments of points and credit."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from tests.helpers.web import csrf_token, in_db, post_form
from tests.helpers.web import sign_in_staff as sign_in
from webapp.models import AuditLog, LedgerEntry, Member
from webapp.services import ledger


@pytest.fixture
def operator_client(client, make_staff):
    sign_in(client, make_staff("operator"))
    return client


def balance(app, member_id, currency="points"):
    return in_db(app, lambda s: ledger.balance_of(s, member_id, currency))


def rows(app, model, *where):
    return in_db(app, lambda s: list(s.scalars(select(model).where(*where).order_by(model.id))))


def adjust_token(client, member_id, form="adjust-points"):
    """The one-time token of the adjust (or grant) form on the member page."""
    html = client.get(f"/admin/members/{member_id}").get_data(as_text=True)
    section = html[html.index(f'action="/admin/members/{member_id}/{form}"'):]
    return re.search(r'name="token" type="hidden" value="([^"]+)"', section).group(1)


# -- search ------------------------------------------------------------------------


def test_search_by_mobile_typed_in_persian_digits_finds_the_member(operator_client, make_member):
    sara = make_member(mobile="09121234567", display_name="Sara")
    make_member(mobile="09351112222", display_name="Reza")
    html = operator_client.get("/admin/members?q=۰۹۱۲ ۱۲۳ ۴۵۶۷").get_data(as_text=True)
    assert f"/admin/members/{sara.id}" in html
    assert "Reza" not in html
    # part of the number is enough, in any digits
    assert "Sara" in operator_client.get("/admin/members?q=۱۲۳۴۵۶۷").get_data(as_text=True)


@pytest.mark.parametrize("query", ["sara@example", "SARA@EXAMPLE.COM", "Sara Ahmadi", "POS-77", "#{id}", "{id}"])
def test_search_by_email_name_external_id_and_member_id(app, operator_client, make_member, query):
    sara = make_member(email="sara@example.com", display_name="Sara Ahmadi")
    other = make_member(email="other@example.com", display_name="Somebody")

    def set_external(s):
        s.get(Member, sara.id).external_id = "POS-77"
        s.commit()

    in_db(app, set_external)
    html = operator_client.get("/admin/members", query_string={"q": query.format(id=sara.id)}).get_data(as_text=True)
    assert f"/admin/members/{sara.id}\"" in html
    assert f"/admin/members/{other.id}\"" not in html


def test_search_treats_like_wildcards_literally(operator_client, make_member):
    make_member(email="a@example.com", display_name="Anna")
    html = operator_client.get("/admin/members?q=%25").get_data(as_text=True)
    assert "Anna" not in html and "No member matches" in html


def test_htmx_search_returns_only_the_results_block(operator_client, make_member):
    make_member(display_name="Sara")
    response = operator_client.get("/admin/members?q=Sara", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True).strip()
    assert response.status_code == 200
    assert html.startswith('<section id="member-results"') and html.endswith("</section>")
    assert "Sara" in html and "<html" not in html and "<form" not in html
    assert "HX-Request" in response.headers["Vary"]
    # a history restore needs the whole page
    full = operator_client.get("/admin/members?q=Sara", headers={
        "HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in full.get_data(as_text=True)


def test_search_page_works_without_javascript(operator_client, make_member):
    make_member(display_name="Sara")
    html = operator_client.get("/admin/members").get_data(as_text=True)
    form = re.search(r'<form class="card search-bar" method="get" action="/admin/members"', html)
    assert form and 'hx-trigger="input changed delay:300ms' in html and 'name="q"' in html


def test_member_list_is_paginated(operator_client, make_member):
    for n in range(27):
        make_member(display_name=f"Member {n:02d}")
    first = operator_client.get("/admin/members").get_data(as_text=True)
    assert "Member 26" in first and "Member 01" not in first and 'rel="next"' in first
    second = operator_client.get("/admin/members?page=2").get_data(as_text=True)
    assert "Member 01" in second and "Member 26" not in second and 'rel="prev"' in second
    assert operator_client.get("/admin/members?page=abc").status_code == 200


def test_member_list_runs_the_same_number_of_queries_for_3_or_30_members(app, operator_client, make_member, count_queries):
    """No N+1: the page is a fixed number of queries whatever it shows."""
    for _ in range(3):
        make_member(points=10)
    operator_client.get("/admin/members")  # warm up (session load, caches)
    with count_queries() as few:
        operator_client.get("/admin/members")
    for _ in range(27):
        make_member(points=10)
    with count_queries() as many:
        html = operator_client.get("/admin/members").get_data(as_text=True)
    assert html.count('<tr>') == 26  # header + 25 rows
    assert len(many) == len(few) <= 4


def test_member_detail_shows_balances_ledger_and_purchases(app, operator_client, make_member, now):
    from webapp.services.ledger.purchases import record_purchase

    member = make_member(points=40, credit=7000, display_name="Sara")

    def buy(s):
        record_purchase(s, member_id=member.id, amount=250_000, currency="IRR", occurred_at=now,
                        now=now, external_ref="till-1")
        s.commit()

    in_db(app, buy)
    html = operator_client.get(f"/admin/members/{member.id}").get_data(as_text=True)
    assert 'id="points-balance">65<' in html  # 40 + 25 earned
    assert "till-1" in html and "Adjust points" in html
    assert operator_client.get("/admin/members/999999").status_code == 404


def test_member_ledger_pages_with_htmx_return_only_the_ledger(operator_client, make_member, app, now):
    member = make_member()

    def many_entries(s):
        for n in range(25):
            ledger.award_points(s, member.id, n + 1, key=f"e{n}", now=now)
        s.commit()

    in_db(app, many_entries)
    response = operator_client.get(f"/admin/members/{member.id}?page=2",
                                   headers={"HX-Request": "true", "HX-Target": "ledger"})
    html = response.get_data(as_text=True).strip()
    assert html.startswith('<section class="card" id="ledger"') and "<html" not in html
    assert html.count("<tr>") == 6  # header + the 5 oldest entries


# -- adjustments ---------------------------------------------------------------------


def test_adjusting_with_a_reason_writes_one_entry_and_one_audit_row(app, operator_client, make_member):
    member = make_member(points=100)
    token = adjust_token(operator_client, member.id)
    response = post_form(operator_client, f"/admin/members/{member.id}/adjust-points",
                         {"amount": "-30", "reason": "Duplicate purchase", "token": token},
                         form_url=f"/admin/members/{member.id}")
    assert response.status_code == 302
    assert balance(app, member.id) == 70
    entries = rows(app, LedgerEntry, LedgerEntry.kind == "adjust")
    assert [(e.amount, e.description, e.currency) for e in entries] == [(-30, "Duplicate purchase", "points")]
    assert entries[0].created_by.startswith("staff:")
    audits = rows(app, AuditLog, AuditLog.action == "member.adjust_points")
    assert len(audits) == 1
    assert audits[0].before == {"points": 100}
    assert audits[0].after["points"] == 70 and audits[0].after["amount"] == -30
    assert audits[0].reason == "Duplicate purchase" and audits[0].object_id == str(member.id)
    assert "Points adjusted" in operator_client.get(f"/admin/members/{member.id}").get_data(as_text=True)


def test_persian_digits_and_signs_are_accepted_as_the_amount(app, operator_client, make_member):
    member = make_member(points=10)
    token = adjust_token(operator_client, member.id)
    post_form(operator_client, f"/admin/members/{member.id}/adjust-points",
              {"amount": "+۱٬۲۵۰", "reason": "هدیه تولد", "token": token}, form_url="/admin/")
    assert balance(app, member.id) == 1260


@pytest.mark.parametrize("reason", ["", "  ", "ab"])
def test_missing_or_short_reason_is_a_form_error_and_saves_nothing(app, operator_client, make_member, reason):
    member = make_member(points=100)
    token = adjust_token(operator_client, member.id)
    response = post_form(operator_client, f"/admin/members/{member.id}/adjust-points",
                         {"amount": "50", "reason": reason, "token": token}, form_url="/admin/")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="reason-error"' in html and 'aria-invalid="true"' in html
    assert balance(app, member.id) == 100
    assert rows(app, AuditLog, AuditLog.action == "member.adjust_points") == []


@pytest.mark.parametrize("amount", ["", "0", "abc", "1.5", "99999999999", "--3"])
def test_bad_amounts_are_form_errors(app, operator_client, make_member, amount):
    member = make_member(points=100)
    token = adjust_token(operator_client, member.id)
    response = post_form(operator_client, f"/admin/members/{member.id}/adjust-points",
                         {"amount": amount, "reason": "a good reason", "token": token}, form_url="/admin/")
    assert response.status_code == 422
    assert 'id="amount-error"' in response.get_data(as_text=True)
    assert balance(app, member.id) == 100


def test_taking_more_points_than_the_balance_is_a_form_error_and_changes_nothing(
    app, operator_client, make_member
):
    member = make_member(points=100)
    token = adjust_token(operator_client, member.id)
    response = post_form(operator_client, f"/admin/members/{member.id}/adjust-points",
                         {"amount": "-101", "reason": "Correction", "token": token}, form_url="/admin/")
    assert response.status_code == 422
    assert "cannot go below zero" in response.get_data(as_text=True)
    assert balance(app, member.id) == 100
    assert len(rows(app, LedgerEntry)) == 1  # only the opening award
    assert rows(app, AuditLog, AuditLog.action == "member.adjust_points") == []
    # the same form, corrected, still goes through once
    post_form(operator_client, f"/admin/members/{member.id}/adjust-points",
              {"amount": "-100", "reason": "Correction", "token": token}, form_url="/admin/")
    assert balance(app, member.id) == 0
    assert in_db(app, ledger.find_mismatches) == []


def test_double_submit_of_the_same_form_posts_once(app, operator_client, make_member):
    member = make_member(points=10)
    token = adjust_token(operator_client, member.id)
    csrf = csrf_token(operator_client, "/admin/")
    data = {"csrf_token": csrf, "amount": "25", "reason": "Missing stamp", "token": token}
    first = operator_client.post(f"/admin/members/{member.id}/adjust-points", data=data)
    second = operator_client.post(f"/admin/members/{member.id}/adjust-points", data=data)
    assert first.status_code == second.status_code == 302
    assert balance(app, member.id) == 35
    assert len(rows(app, LedgerEntry, LedgerEntry.kind == "adjust")) == 1
    assert len(rows(app, AuditLog, AuditLog.action == "member.adjust_points")) == 1
    html = operator_client.get(f"/admin/members/{member.id}").get_data(as_text=True)
    assert "already submitted" in html


def test_reusing_a_form_token_with_another_amount_is_refused(app, operator_client, make_member):
    member = make_member(points=10)
    token = adjust_token(operator_client, member.id)
    post_form(operator_client, f"/admin/members/{member.id}/adjust-points",
              {"amount": "5", "reason": "First try", "token": token}, form_url="/admin/")
    response = post_form(operator_client, f"/admin/members/{member.id}/adjust-points",
                         {"amount": "6", "reason": "Second try", "token": token}, form_url="/admin/")
    assert response.status_code == 422
    assert "already submitted with other values" in response.get_data(as_text=True)
    assert balance(app, member.id) == 15


def test_each_page_load_gets_a_fresh_form_token(operator_client, make_member):
    member = make_member()
    assert adjust_token(operator_client, member.id) != adjust_token(operator_client, member.id)


def test_granting_credit_with_a_reason_is_posted_and_audited_once(app, operator_client, make_member):
    member = make_member(credit=1000)
    token = adjust_token(operator_client, member.id, form="grant-credit")
    for _ in range(2):
        response = post_form(operator_client, f"/admin/members/{member.id}/grant-credit",
                             {"amount": "۵۰۰۰۰", "reason": "Late delivery", "token": token},
                             form_url="/admin/")
        assert response.status_code == 302
    assert balance(app, member.id, "credit") == 51_000
    entries = rows(app, LedgerEntry, LedgerEntry.kind == "grant", LedgerEntry.amount == 50_000)
    assert len(entries) == 1 and entries[0].currency == "credit"
    audits = rows(app, AuditLog, AuditLog.action == "member.grant_credit")
    assert len(audits) == 1 and audits[0].before == {"credit": 1000} and audits[0].after["credit"] == 51_000


@pytest.mark.parametrize("amount", ["-5", "0"])
def test_credit_grants_must_be_positive(app, operator_client, make_member, amount):
    member = make_member()
    token = adjust_token(operator_client, member.id, form="grant-credit")
    response = post_form(operator_client, f"/admin/members/{member.id}/grant-credit",
                         {"amount": amount, "reason": "Some reason", "token": token}, form_url="/admin/")
    assert response.status_code == 422
    assert balance(app, member.id, "credit") == 0


def test_adjusting_an_unknown_member_is_404(operator_client):
    response = post_form(operator_client, "/admin/members/424242/adjust-points",
                         {"amount": "5", "reason": "whatever", "token": "t1"}, form_url="/admin/")
    assert response.status_code == 404


def test_members_count_on_the_dashboard_matches_the_club(app, client, make_staff, make_member):
    from webapp.services.ledger.purchases import record_purchase

    now = datetime.now(UTC)  # the dashboard counts the 30 days before the real clock

    make_member(points=100, credit=5000)
    buyer = make_member(points=20)

    def buy(s):
        record_purchase(s, member_id=buyer.id, amount=120_000, currency="IRR", occurred_at=now,
                        now=now)
        s.commit()

    in_db(app, buy)
    assert in_db(app, lambda s: s.scalar(select(func.count()).select_from(Member))) == 2
    sign_in(client, make_staff("marketer"))
    html = client.get("/admin/").get_data(as_text=True)
    assert 'id="stat-members">2<' in html
    assert 'id="stat-points">132<' in html  # 100 + 20 + 12 earned
    assert 'id="stat-purchases">1<' in html


@pytest.mark.real_commits
def test_two_simultaneous_submits_of_one_form_post_once(app, make_staff, make_member):
    """A double click sends two requests at once: the ledger key lets one through."""
    import threading

    operator, member = make_staff("operator"), make_member(points=10)
    clients = [app.test_client(), app.test_client()]
    for c in clients:
        sign_in(c, operator)
    token = adjust_token(clients[0], member.id)
    forms = [{"csrf_token": csrf_token(c, "/admin/"), "amount": "40", "reason": "Double click",
              "token": token} for c in clients]
    start, statuses = threading.Barrier(2), []

    def submit(c, data):
        start.wait()
        statuses.append(c.post(f"/admin/members/{member.id}/adjust-points", data=data).status_code)

    threads = [threading.Thread(target=submit, args=pair) for pair in zip(clients, forms, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [302, 302]
    assert balance(app, member.id) == 50
    assert len(rows(app, LedgerEntry, LedgerEntry.kind == "adjust")) == 1
    assert len(rows(app, AuditLog, AuditLog.action == "member.adjust_points")) == 1
