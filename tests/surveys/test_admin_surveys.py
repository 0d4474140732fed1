"""/admin/surveys: who may read and who may change surveys, the editor, the
actions (each audited), sending to a segment, and the results page (figures,
trend, tiers, segments, escaped verbatims newest first) in fixed queries."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from tests import factories
from tests.helpers.web import in_db, post_form, sign_in_staff, text
from tests.surveys.helpers import QUESTION, active_survey, send
from webapp.models import AuditLog, Survey, SurveyInvite
from webapp.services import surveys


def survey_form(**changes) -> dict:
    return {"kind": "nps", "name": "Quarterly NPS", "trigger": "manual", "segment": "", **QUESTION, **changes}


def audit_actions(app):
    return in_db(app, lambda s: s.scalars(select(AuditLog.action).where(AuditLog.object_type == "survey")
                                          .order_by(AuditLog.id)).all())


@pytest.mark.parametrize(("role", "writes"), [("owner", True), ("marketer", True), ("auditor", False)])
def test_owners_and_marketers_change_surveys_and_auditors_only_read(app, client, make_staff, role, writes):
    survey_id = active_survey(app, status="draft")
    sign_in_staff(client, make_staff(role))
    assert 'href="/admin/surveys"' in client.get("/admin/").get_data(as_text=True)
    assert client.get("/admin/surveys").status_code == 200
    page = client.get(f"/admin/surveys/{survey_id}")
    assert page.status_code == 200
    assert ("/activate" in page.get_data(as_text=True)) is writes
    new = client.get("/admin/surveys/new")
    assert new.status_code == (200 if writes else 403)
    token = re.search(r'"X-CSRFToken":\s*"([^"]+)"', page.get_data(as_text=True)).group(1)
    for action in ("activate", "close", "send"):
        answer = client.post(f"/admin/surveys/{survey_id}/{action}", data={"csrf_token": token, "segment": ""})
        assert (answer.status_code == 403) is not writes


def test_operators_neither_see_nor_open_surveys(app, client, make_staff):
    survey_id = active_survey(app)
    sign_in_staff(client, make_staff("operator"))
    assert 'href="/admin/surveys"' not in client.get("/admin/").get_data(as_text=True)
    assert client.get("/admin/surveys").status_code == 403
    assert client.get(f"/admin/surveys/{survey_id}").status_code == 403


def test_signed_out_visitors_go_to_the_staff_login(client):
    assert client.get("/admin/surveys").headers["Location"].startswith("/admin/login")


def test_a_marketer_creates_activates_sends_and_closes_a_survey_all_audited(app, client, make_staff, make_member):
    members = [make_member() for _ in range(3)]
    sign_in_staff(client, make_staff("marketer"))
    created = post_form(client, "/admin/surveys/new", survey_form())
    assert created.status_code == 302
    survey_id = int(created.headers["Location"].rsplit("/", 1)[1])
    detail = f"/admin/surveys/{survey_id}"
    assert post_form(client, f"{detail}/activate", {}, form_url=detail).status_code == 302
    sent = post_form(client, f"{detail}/send", {"segment": ""}, form_url=detail, follow_redirects=True)
    assert "3 members were invited" in text(sent.get_data(as_text=True))
    invited = in_db(app, lambda s: sorted(s.scalars(select(SurveyInvite.member_id))))
    assert invited == sorted(m.id for m in members)
    assert post_form(client, f"{detail}/close", {}, form_url=detail).status_code == 302
    assert audit_actions(app) == ["survey.create", "survey.activate", "survey.send", "survey.close"]
    assert in_db(app, lambda s: s.get(Survey, survey_id).status) == "closed"


def test_the_editor_refuses_a_missing_question_and_edits_a_draft(app, client, make_staff):
    sign_in_staff(client, make_staff("owner"))
    refused = post_form(client, "/admin/surveys/new", survey_form(question_en=""))
    assert refused.status_code == 422 and 'id="question_en-error"' in refused.get_data(as_text=True)
    survey_id = active_survey(app, status="draft")
    edited = post_form(client, f"/admin/surveys/{survey_id}/edit", survey_form(name="Renamed", kind="csat"))
    assert edited.status_code == 302
    assert in_db(app, lambda s: (s.get(Survey, survey_id).name, s.get(Survey, survey_id).kind)) == ("Renamed", "csat")
    assert audit_actions(app)[-1] == "survey.update"


def test_sending_a_draft_is_refused_with_words(app, client, make_staff, make_member):
    make_member()
    survey_id = active_survey(app, status="draft")
    sign_in_staff(client, make_staff("owner"))
    page = post_form(client, f"/admin/surveys/{survey_id}/send", {"segment": ""},
                     form_url=f"/admin/surveys/{survey_id}", follow_redirects=True)
    assert "not in a state that allows this" in text(page.get_data(as_text=True))
    assert in_db(app, lambda s: s.scalar(select(SurveyInvite.id))) is None


def _answered(app, make_member, scored):
    """Members answering an NPS survey: [(score, comment, days ago)]."""
    people = [make_member(points=500 if n % 2 else 0) for n in range(len(scored))]
    survey_id = active_survey(app)
    tokens = send(app, survey_id)

    def answer(s):
        now = datetime.now(UTC)
        for member, (score, comment, ago) in zip(people, scored, strict=True):
            surveys.answer_survey(s, tokens[member.id], score=score, comment=comment, now=now - timedelta(days=ago))
        s.commit()

    in_db(app, answer)
    return survey_id


def test_the_results_page_shows_the_nps_groups_and_escaped_comments_newest_first(app, client, make_staff,
                                                                                  make_member):
    survey_id = _answered(app, make_member, [(10, "old <script>alert(1)</script>", 2), (9, None, 1),
                                             (7, "fine", 1), (3, "newest: too slow", 0)])
    sign_in_staff(client, make_staff("auditor"))
    html = client.get(f"/admin/surveys/{survey_id}").get_data(as_text=True)
    assert re.search(r'id="survey-nps">\s*\+?25<', html)  # 50 % − 25 %
    assert re.search(r'id="survey-promoters">2 ', html) and re.search(r'id="survey-detractors">1 ', html)
    assert re.search(r'id="survey-passives">1 ', html)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    comments = re.findall(r'class="survey-verbatim" dir="auto">([^<]*)<', html)
    assert comments == ["newest: too slow", "fine", "old &lt;script&gt;alert(1)&lt;/script&gt;"]
    assert 'id="survey-trend"' in html and 'id="survey-tiers"' in html


def test_verbatims_come_a_page_at_a_time(app, client, make_staff, make_member):
    survey_id = _answered(app, make_member, [(5, f"comment {n}", 0) for n in range(23)])
    sign_in_staff(client, make_staff("owner"))
    first = client.get(f"/admin/surveys/{survey_id}").get_data(as_text=True)
    second = client.get(f"/admin/surveys/{survey_id}?page=2").get_data(as_text=True)
    assert first.count('class="survey-verbatim"') == 20 and second.count('class="survey-verbatim"') == 3
    assert 'rel="next"' in first and 'rel="prev"' in second


def test_the_results_page_runs_the_same_queries_for_one_segment_or_many(app, client, make_staff, make_member,
                                                                        count_queries):
    survey_id = _answered(app, make_member, [(10, "a", 0), (2, "b", 0), (8, None, 0)])
    sign_in_staff(client, make_staff("owner"))

    def add_segments(n, start):
        def add(s):
            for i in range(n):
                factories.segment(s, f"Seg {start + i}", [{"field": "points", "op": "gte", "value": i}])
            s.commit()
        in_db(app, add)

    add_segments(1, 0)
    client.get(f"/admin/surveys/{survey_id}")
    with count_queries() as few:
        assert client.get(f"/admin/surveys/{survey_id}").status_code == 200
    add_segments(6, 10)
    client.get(f"/admin/surveys/{survey_id}")  # new segments: a new configuration, read once
    with count_queries() as many:
        page = client.get(f"/admin/surveys/{survey_id}")
    assert page.status_code == 200 and page.get_data(as_text=True).count("Seg 1") >= 7
    assert len(many) == len(few)


def test_a_persian_club_reads_its_trend_by_jalali_month(app, client, make_staff, make_member):
    import jdatetime

    from webapp.i18n import JALALI_MONTHS_FA, persian_digits

    app.config["VAFA_LOCALE"] = "fa"
    survey_id = _answered(app, make_member, [(10, None, 0)])
    sign_in_staff(client, make_staff("owner"))
    html = client.get(f"/admin/surveys/{survey_id}").get_data(as_text=True)
    today = jdatetime.date.fromgregorian(date=datetime.now(UTC).astimezone(ZoneInfo("Asia/Tehran")).date())
    this_month = f"{JALALI_MONTHS_FA[today.month - 1]} {persian_digits(str(today.year))}"
    rows = re.findall(r'<tr><th scope="row"><time datetime="[^"]+">([^<]+)</time>', html)
    assert len(rows) == 12 and rows[0] == this_month  # newest first
