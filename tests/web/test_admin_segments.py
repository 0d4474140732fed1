"""Staff side of segments: the list with counts, the condition builder (with and
without htmx), the live count, CSV export, archiving and who may do it."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from tests.helpers.web import in_db, post_form
from tests.helpers.web import sign_in_staff as sign_in
from webapp.models import AuditLog, Segment
from webapp.services.offers import segments

HX = {"HX-Request": "true", "HX-Target": "segment-count"}


def audits(app, action):
    return in_db(app, lambda s: list(s.scalars(select(AuditLog).where(AuditLog.action == action))))


def editor_data(**fields) -> dict:
    return {"name": "Big spenders", "description": "", **fields}


@pytest.mark.parametrize(("role", "status"), [("owner", 200), ("marketer", 200), ("operator", 403),
                                              ("auditor", 403)])
def test_only_staff_who_design_offers_see_segments(client, make_staff, app, role, status, make_segment):
    segment_id = make_segment()
    sign_in(client, make_staff(role))
    for url in ("/admin/segments", "/admin/segments/new", f"/admin/segments/{segment_id}",
                f"/admin/segments/{segment_id}/members.csv"):
        assert client.get(url).status_code == status, url
    nav = client.get("/admin/").get_data(as_text=True)
    assert ('href="/admin/segments"' in nav) == (status == 200)


def test_signed_out_visitors_are_sent_to_the_login(client):
    response = client.get("/admin/segments")
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]
    assert client.post("/admin/segments/count", data={}).status_code in (302, 400)


def test_creating_a_segment_shows_it_with_its_count_and_conditions_in_words(client, marketer, make_member, app):
    make_member(points=150)
    make_member(points=99)
    response = post_form(client, "/admin/segments/new", editor_data(points_min="۱۰۰", consent_email=""),
                         form_url="/admin/segments/new")
    assert response.status_code == 302
    segment = in_db(app, lambda s: s.scalar(select(Segment)))
    assert segment.conditions == [{"field": "points", "op": "gte", "value": 100}]
    [entry] = audits(app, "segment.create")
    assert entry.actor.startswith(f"staff:{marketer.id}")
    page = client.get("/admin/segments").get_data(as_text=True)
    assert "Big spenders" in page and "Points balance at least 100" in page
    assert re.search(r'data-count="1"', page)
    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'id="segment-total" data-count="1"' in detail


def test_a_form_with_mistakes_is_shown_again_with_each_mistake_on_its_field(client, marketer, app):
    response = post_form(client, "/admin/segments/new", {
        "name": "", "points_min": "500", "points_max": "100", "spend_min": "abc",
        "joined_after": "1405-13-40"}, form_url="/admin/segments/new")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Give the segment a name." in html
    assert "Enter a whole number" in html
    assert "Enter a date as year-month-day" in html
    assert in_db(app, lambda s: s.scalar(select(Segment.id))) is None
    # the numbers parse, the rows disagree: the pure check speaks on the maximum
    response = post_form(client, "/admin/segments/new", editor_data(points_min="500", points_max="100"),
                         form_url="/admin/segments/new")
    assert response.status_code == 422
    assert re.search(r'id="points_max-error">The maximum is below the minimum', response.get_data(as_text=True))


def test_a_taken_name_is_refused_on_the_name_field(client, marketer, app, make_segment):
    make_segment(name="Big spenders")
    response = post_form(client, "/admin/segments/new", editor_data(), form_url="/admin/segments/new")
    assert response.status_code == 422
    assert "Another segment already has this name." in response.get_data(as_text=True)


def test_the_live_count_answers_htmx_with_just_the_count_fragment(client, marketer, make_member):
    make_member(points=150, display_name="Sara")
    make_member(points=300, display_name="Reza")
    make_member(points=10)
    response = post_form(client, "/admin/segments/count", editor_data(points_min="100"),
                         form_url="/admin/segments/new", headers=HX)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<html" not in html
    assert 'id="segment-count"' in html and 'data-count="2"' in html
    assert "Sara" in html and "Reza" in html
    # a mistake is said inside the fragment (htmx swaps only 2xx answers)
    response = post_form(client, "/admin/segments/count", editor_data(points_min="x"),
                         form_url="/admin/segments/new", headers=HX)
    assert response.status_code == 200 and 'id="count-problems"' in response.get_data(as_text=True)


def test_without_javascript_the_count_button_shows_the_whole_editor_with_the_count(client, marketer, make_member):
    make_member(points=150)
    response = post_form(client, "/admin/segments/count", editor_data(points_min="100"),
                         form_url="/admin/segments/new")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in html
    assert 'data-count="1"' in html and 'value="Big spenders"' in html
    assert 'action="/admin/segments/new"' in html and 'hx-post="/admin/segments/count"' in html


def test_editing_prefills_every_row_and_audits_the_change(client, marketer, app, make_segment):
    segment_id = make_segment(conditions=[
        {"field": "spend", "op": "gte", "value": 5000, "days": 60},
        {"field": "birthday", "op": "jalali", "value": [1, 12]},
        {"field": "last_purchase", "op": "never"},
        {"field": "consent_sms", "op": "eq", "value": False},
    ])
    html = client.get(f"/admin/segments/{segment_id}/edit").get_data(as_text=True)
    assert re.search(r'<input[^>]*name="spend_min"[^>]*value="5000"', html)
    assert re.search(r'<input checked[^>]*name="birthday_jalali"[^>]*value="12"', html)
    assert not re.search(r'<input checked[^>]*name="birthday_jalali"[^>]*value="2"', html)
    assert re.search(r'<option selected value="no">|<option value="no" selected>', html)
    response = post_form(client, f"/admin/segments/{segment_id}/edit",
                         editor_data(name="Rich", spend_min="6000", spend_days="60", birthday_jalali=["1", "12"],
                                     never_purchased="yes", consent_sms="no", segment_id=str(segment_id)),
                         form_url=f"/admin/segments/{segment_id}/edit")
    assert response.status_code == 302
    [entry] = audits(app, "segment.update")
    assert entry.before["conditions"][0] == {"field": "spend", "op": "gte", "value": 5000, "days": 60}
    assert entry.after["conditions"][0] == {"field": "spend", "op": "gte", "value": 6000, "days": 60}
    assert "name" not in entry.before  # only what changed is recorded


def test_csv_export_streams_the_members_safely_and_is_audited(client, marketer, make_member, app, make_segment):
    a = make_member(points=200, display_name="=HYPERLINK(\"x\")", mobile="09121234567")
    b = make_member(points=500, display_name="سارا")
    make_member(points=5)
    segment_id = make_segment()
    response = client.get(f"/admin/segments/{segment_id}/members.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == ["id", "name", "email", "mobile", "tier", "points", "joined"]
    assert [r[0] for r in rows[1:]] == [str(a.id), str(b.id)]
    assert rows[1][1] == "'=HYPERLINK(\"x\")" and rows[1][3] == "+989121234567" and rows[1][5] == "200"
    assert rows[2][1] == "سارا" and re.fullmatch(r"\d{4}-\d{2}-\d{2}", rows[2][6])
    [entry] = audits(app, "segment.export")
    assert entry.after == {"members": 2}


def test_archiving_hides_the_segment_but_keeps_it_answering(client, marketer, make_member, app, make_segment):
    make_member(points=150)
    segment_id = make_segment()
    response = post_form(client, f"/admin/segments/{segment_id}/archive", {},
                         form_url=f"/admin/segments/{segment_id}")
    assert response.status_code == 302
    assert len(audits(app, "segment.archive")) == 1
    assert "Rich" not in client.get("/admin/segments").get_data(as_text=True)
    assert "Rich" in client.get("/admin/segments?archived=1").get_data(as_text=True)
    assert client.get(f"/admin/segments/{segment_id}/edit").status_code == 302
    assert in_db(app, lambda s: segments.count(s, segment_id, datetime.now(UTC))) == 1


def test_the_list_takes_the_same_number_of_queries_for_few_or_many_members_and_segments(
        client, marketer, make_member, app, count_queries, make_segment):
    def load():
        with count_queries() as statements:
            assert client.get("/admin/segments").status_code == 200
        return len(statements)

    make_member(points=150)
    make_segment("one")
    few = load()
    for n in range(8):
        make_member(points=100 + n)
    for name in ("two", "three", "four"):
        make_segment(name, [{"field": "points", "op": "gte", "value": 100},
                                 {"field": "spend", "op": "lte", "value": 10, "days": 30},
                                 {"field": "consent_email", "op": "eq", "value": False}])
    assert load() == few


def test_the_detail_page_previews_the_first_twenty_members_with_links(client, marketer, make_member, app, make_segment):
    members = [make_member(points=150 + n) for n in range(21)]
    segment_id = make_segment()
    html = client.get(f"/admin/segments/{segment_id}").get_data(as_text=True)
    assert 'data-count="21"' in html
    assert f'href="/admin/members/{members[19].id}"' in html
    assert f'href="/admin/members/{members[20].id}"' not in html


def test_joined_dates_are_typed_in_jalali_or_gregorian_and_kept_as_days(client, marketer, app):
    response = post_form(client, "/admin/segments/new",
                         editor_data(name="Newcomers", joined_after="۱۴۰۵-۰۱-۰۱", joined_before="2026-10-23"),
                         form_url="/admin/segments/new")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    conditions = in_db(app, lambda s: s.scalar(select(Segment.conditions).where(Segment.name == "Newcomers")))
    assert {"field": "joined", "op": "after", "value": "2026-03-21"} in conditions
    assert {"field": "joined", "op": "before", "value": "2026-10-23"} in conditions
