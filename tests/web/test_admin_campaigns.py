"""Staff side of campaigns: who may see them, the editor's validation, the
actions (each audited), progress polled while the job works, the report, and
the member's inbox message."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.helpers.web import in_db, post_form
from tests.helpers.web import sign_in_staff as sign_in
from webapp.models import AuditLog, Campaign, CampaignMember, InboxMessage, LedgerEntry
from webapp.services.members import audit
from webapp.services.offers import campaigns, segments
from webapp.services.offers.campaigns import CampaignDraft

PASSWORD = "member-password-1"


def form(**changes) -> dict:
    values = {"name": "Winter bonus", "kind": "bonus", "segment": "all", "starts_at": "2030-01-01 10:00",
              "ends_at": "2030-01-15", "control_percent": "10", "budget_points": "", "bonus_points": "250",
              "message_fa": "هدیهٔ زمستانی", "message_en": "A winter gift", "reward": "",
              "offer_cost_points": "", "earn_rule": ""}
    return {**values, **changes}


def make_campaign(app, *, start=None, **changes) -> int:
    start = start or datetime.now(UTC) + timedelta(days=1)
    values = {"name": "Spring", "kind": "bonus", "segment_id": None, "starts_at": start,
              "ends_at": start + timedelta(days=7), "bonus_points": 30, "message_fa": "سلام", "message_en": "Hi"}

    def create(s):
        campaign = campaigns.create_campaign(s, CampaignDraft(**{**values, **changes}), actor=audit.CLI,
                                             now=datetime.now(UTC))
        s.commit()
        return campaign.id

    return in_db(app, create)


def campaign_row(app, campaign_id) -> Campaign:
    def get(s):
        row = s.get(Campaign, campaign_id)
        s.expunge(row)
        return row

    return in_db(app, get)


@pytest.mark.parametrize(("role", "status"), [("owner", 200), ("marketer", 200), ("operator", 403),
                                              ("auditor", 403)])
def test_campaign_pages_are_for_owners_and_marketers(app, client, make_staff, role, status):
    campaign_id = make_campaign(app)
    sign_in(client, make_staff(role))
    for url in ("/admin/campaigns", "/admin/campaigns/new", f"/admin/campaigns/{campaign_id}",
                f"/admin/campaigns/{campaign_id}/edit"):
        assert client.get(url).status_code == status, url
    if status == 403:
        answer = post_form(client, f"/admin/campaigns/{campaign_id}/cancel", {}, form_url="/admin/")
        assert answer.status_code == 403
        assert campaign_row(app, campaign_id).status == "draft"


def test_signed_out_visitors_are_sent_to_the_staff_login(client):
    answer = client.get("/admin/campaigns")
    assert answer.status_code == 302 and "/admin/login" in answer.headers["Location"]


@pytest.mark.parametrize(("changes", "message"), [
    ({"segment": ""}, "Choose who the campaign is for."),
    ({"control_percent": "60"}, "Between 0 and 50 percent."),
    ({"budget_points": "100"}, "The budget must cover at least one member"),
    ({"bonus_points": ""}, "Enter the bonus points per member."),
    ({"ends_at": "2029-12-31"}, "The end must come after the start."),
    ({"starts_at": "yesterday"}, "Enter a date and time such as"),
    ({"message_en": ""}, "Write the message in both languages."),
    ({"kind": "offer"}, "Choose a reward from the catalog."),
    ({"kind": "earn_rule"}, "Choose a draft earn rule."),
])
def test_the_editor_says_what_is_wrong_and_saves_nothing(app, client, make_staff, changes, message):
    sign_in(client, make_staff("marketer"))
    answer = post_form(client, "/admin/campaigns/new", form(**changes))
    assert answer.status_code == 422
    assert message in answer.get_data(as_text=True)
    assert in_db(app, lambda s: s.scalar(select(func.count()).select_from(Campaign))) == 0


def test_a_draft_is_created_edited_scheduled_and_cancelled_with_an_audit_trail(app, client, make_staff):
    sign_in(client, make_staff("marketer"))
    # Jalali with Persian digits, in the club's time zone (Tehran, UTC+3:30)
    answer = post_form(client, "/admin/campaigns/new",
                       form(starts_at="۱۴۰۸-۱۰-۱۲ ۱۰:۰۰", budget_points="۱۰٬۰۰۰"))
    assert answer.status_code == 302
    campaign_id = int(re.search(r"/admin/campaigns/(\d+)$", answer.headers["Location"])[1])
    row = campaign_row(app, campaign_id)
    assert (row.status, row.bonus_points, row.budget_points, row.segment_id) == ("draft", 250, 10_000, None)
    assert row.starts_at == datetime(2030, 1, 1, 6, 30, tzinfo=UTC)
    page = client.get(f"/admin/campaigns/{campaign_id}").get_data(as_text=True)
    assert "Winter bonus" in page and "A winter gift" in page and "Schedule" in page

    edit_url = f"/admin/campaigns/{campaign_id}/edit"
    assert "2030-01-01 10:00" in client.get(edit_url).get_data(as_text=True)
    assert post_form(client, edit_url, form(bonus_points="300", budget_points="")).status_code == 302
    assert campaign_row(app, campaign_id).bonus_points == 300

    url = f"/admin/campaigns/{campaign_id}"
    assert post_form(client, f"{url}/schedule", {}, form_url=url).status_code == 303
    assert campaign_row(app, campaign_id).status == "scheduled"
    assert client.get(edit_url).status_code == 302  # no longer a draft
    assert post_form(client, f"{url}/cancel", {}, form_url=url).status_code == 303
    assert campaign_row(app, campaign_id).status == "cancelled"
    answer = post_form(client, f"{url}/cancel", {}, form_url=url, follow_redirects=True)
    assert "no longer possible" in answer.get_data(as_text=True)
    actions = in_db(app, lambda s: list(s.scalars(select(AuditLog.action).where(
        AuditLog.object_type == "campaign", AuditLog.object_id == str(campaign_id)).order_by(AuditLog.id))))
    assert actions == ["campaigns.create", "campaigns.update", "campaigns.schedule", "campaigns.cancel"]
    assert all(a.startswith("staff:") for a in in_db(app, lambda s: list(s.scalars(
        select(AuditLog.actor).where(AuditLog.object_type == "campaign")))))


def test_an_action_without_the_csrf_token_is_refused(app, client, make_staff):
    campaign_id = make_campaign(app)
    sign_in(client, make_staff("owner"))
    assert client.post(f"/admin/campaigns/{campaign_id}/schedule").status_code == 400
    assert campaign_row(app, campaign_id).status == "draft"


def test_start_now_runs_the_job_polls_progress_and_shows_the_report(app, client, make_staff, make_member,
                                                                    run_worker):
    people = {m.id: m for m in (make_member(password=PASSWORD) for _ in range(5))}
    campaign_id = make_campaign(app, control_percent=20)
    sign_in(client, make_staff("owner"))
    url = f"/admin/campaigns/{campaign_id}"
    assert post_form(client, f"{url}/start", {}, form_url=url).status_code == 303
    row = campaign_row(app, campaign_id)
    assert row.status == "scheduled" and row.starts_at <= datetime.now(UTC)

    html = client.get(url).get_data(as_text=True)
    assert 'hx-trigger="every 2s"' in html  # the job has work: the page polls
    assert f'href="{url}"' in html  # and says how to refresh without JavaScript
    poll = client.get(url, headers={"HX-Request": "true", "HX-Target": "campaign-progress"})
    assert 'id="campaign-progress"' in poll.get_data(as_text=True) and "<html" not in poll.get_data(as_text=True)

    run_worker()
    poll = client.get(url, headers={"HX-Request": "true", "HX-Target": "campaign-progress"})
    assert poll.headers.get("HX-Refresh") == "true" and "every 2s" not in poll.get_data(as_text=True)
    html = client.get(url).get_data(as_text=True)
    assert "every 2s" not in html
    assert re.search(r'id="report-members">.*?>4<.*?>1<', html, re.S)  # 5 members, 20 % held out
    assert re.search(r'id="report-points">.*?>120<.*?>0<', html, re.S)
    row = campaign_row(app, campaign_id)
    assert (row.status, row.members_done, row.points_awarded) == ("done", 4, 120)

    # the member side: a treatment member reads the gift in the inbox
    treated = in_db(app, lambda s: set(s.scalars(select(LedgerEntry.member_id).where(LedgerEntry.source_type == "campaign"))))
    assert in_db(app, lambda s: s.scalar(select(func.count()).select_from(InboxMessage))) == 4
    member_client = app.test_client()
    post_form(member_client, "/login", {"login": people[min(treated)].email, "password": PASSWORD})
    inbox = member_client.get("/me/inbox").get_data(as_text=True)
    assert "30 bonus points from the club" in inbox and "Hi" in inbox


def test_the_list_shows_every_campaign_with_its_status(app, client, make_staff):
    make_campaign(app, name="Draft one")
    scheduled = make_campaign(app, name="Scheduled one")
    in_db(app, lambda s: (campaigns.schedule_campaign(s, scheduled, actor=audit.CLI, now=datetime.now(UTC)),
                          s.commit()))
    sign_in(client, make_staff("marketer"))
    html = client.get("/admin/campaigns").get_data(as_text=True)
    assert html.index("Scheduled one") < html.index("Draft one")  # live ones first
    assert "Draft" in html and "Scheduled" in html


def test_the_editor_counts_the_audience_and_the_hold_out_live(app, client, make_staff, make_member):
    for points in (500, 500, 500, 0, 0):
        make_member(points=points)

    def rich(s):
        segment = segments.create_segment(s, name="Rich", conditions=[{"field": "points", "op": "gte",
                                                                       "value": 100}],
                                          actor=audit.CLI, now=datetime.now(UTC))
        s.commit()
        return segment.id

    segment_id = in_db(app, rich)
    sign_in(client, make_staff("marketer"))
    editor = client.get("/admin/campaigns/new").get_data(as_text=True)
    # both fields ask for the count when they change; nothing is shown before a segment is chosen
    for tag in (r'<select[^>]*id="segment"[^>]*>', r'<input[^>]*id="control_percent"[^>]*>'):
        attrs = re.search(tag, editor)[0]
        assert 'hx-get="/admin/campaigns/audience"' in attrs and 'hx-trigger="change"' in attrs
        assert 'hx-include="#segment, #control_percent"' in attrs and 'hx-target="#campaign-audience"' in attrs
    assert re.search(r'<div id="campaign-audience"[^>]*>\s*</div>', editor)

    def split(**args):
        html = client.get("/admin/campaigns/audience", query_string=args,
                          headers={"HX-Request": "true", "HX-Target": "campaign-audience"}).get_data(as_text=True)
        assert "<html" not in html
        members = re.search(r'id="audience-members" data-count="(\d+)"', html)
        parts = re.search(r'data-treatment="(\d+)" data-control="(\d+)"', html)
        return (members and int(members[1]), parts and (int(parts[1]), int(parts[2])))

    assert split(segment="all", control_percent="20") == (5, (4, 1))
    assert split(segment=str(segment_id), control_percent="۳۴") == (3, (2, 1))  # Persian digits
    assert split(segment=str(segment_id), control_percent="0") == (3, (3, 0))
    assert split(segment=str(segment_id), control_percent="60") == (3, None)  # no split for a refused percent
    assert split(segment="", control_percent="20") == (None, None)
    assert split(segment="99999999999", control_percent="20") == (None, None)

    # a draft's editor shows its audience from the start, and it matches the drawn control group
    campaign_id = make_campaign(app, segment_id=segment_id, control_percent=34)
    edit = client.get(f"/admin/campaigns/{campaign_id}/edit").get_data(as_text=True)
    assert 'data-treatment="2" data-control="1"' in edit

    def begin(s):
        campaigns.schedule_campaign(s, campaign_id, actor=audit.CLI, now=datetime.now(UTC), start_now=True)
        campaigns.begin_campaign(s, campaign_id, now=datetime.now(UTC))
        s.commit()
        return s.scalar(select(func.count()).select_from(CampaignMember).where(
            CampaignMember.campaign_id == campaign_id, CampaignMember.in_control))

    assert in_db(app, begin) == 1


def test_only_a_bonus_campaign_shows_points_awarded_while_it_runs(app, client, make_staff, make_member):
    from webapp.models import Reward

    make_member()
    reward_id = in_db(app, lambda s: (s.add(r := Reward(kind="credit", name_fa="اعتبار", name_en="Credit",
                                                        cost_points=100, value=10, status="active")),
                                      s.commit(), r.id)[-1])
    start = datetime.now(UTC) - timedelta(minutes=1)
    bonus = make_campaign(app, start=start)
    offer = make_campaign(app, start=start, kind="offer", reward_id=reward_id, offer_cost_points=50,
                          message_fa=None, message_en=None)
    for campaign_id in (bonus, offer):
        in_db(app, lambda s, c=campaign_id: (campaigns.schedule_campaign(s, c, actor=audit.CLI, now=start),
                                             campaigns.begin_campaign(s, c, now=datetime.now(UTC)),
                                             s.commit()))
    sign_in(client, make_staff("marketer"))
    assert 'id="progress-points"' in client.get(f"/admin/campaigns/{bonus}").get_data(as_text=True)
    assert 'id="progress-points"' not in client.get(f"/admin/campaigns/{offer}").get_data(as_text=True)
