"""The earn-rule designer in /admin/rules: create (with validation), activate,
a new version that keeps history, end, the dry run, and who may use it."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from tests.helpers.web import post_form
from tests.helpers.web import sign_in_staff as sign_in
from webapp.extensions import db
from webapp.models import AuditLog, EarnRule, LedgerEntry

NEW = {"name_fa": "دوبل آخر هفته", "name_en": "Weekend double", "trigger": "purchase",
       "effect": "fixed", "points": "۱۵۰", "use_tier_multiplier": "y", "cap_period": "day",
       "weekdays": ["4", "5"], "hour_from": "22", "hour_to": "2", "segment_id": ""}


def rules_of(app):
    with app.app_context():
        return [(r.id, r.family_id, r.version, r.status, r.points)
                for r in db.session.scalars(select(EarnRule).order_by(EarnRule.id))]


def audits(app):
    with app.app_context():
        return list(db.session.scalars(select(AuditLog.action).where(AuditLog.action.like("rule.%"))
                                       .order_by(AuditLog.id)))


@pytest.mark.parametrize("role", ["operator", "auditor"])
def test_only_owner_and_marketer_may_design_rules(client, make_staff, role):
    sign_in(client, make_staff(role))
    assert client.get("/admin/rules").status_code == 403
    assert client.get("/admin/rules/new").status_code == 403


def test_the_list_shows_the_base_rate_first_read_only(client, marketer):
    html = client.get("/admin/rules").get_data(as_text=True)
    assert 'id="rule-base"' in html and html.index("rule-base") < html.index("dry-run-form")
    assert "/admin/settings" not in html  # a marketer cannot edit settings: no link


def test_create_activate_revise_and_end_keep_history_and_audit(app, client, marketer):
    response = post_form(client, "/admin/rules/new", NEW)
    assert response.status_code == 302
    [(rule_id, family, version, status, points)] = rules_of(app)
    assert (family, version, status, points) == (rule_id, 1, "draft", 150)
    with app.app_context():
        cond = db.session.get(EarnRule, rule_id).conditions
    assert cond == {"weekdays": [4, 5], "hour_from": 22, "hour_to": 2}
    url = f"/admin/rules/{rule_id}"
    assert post_form(client, f"{url}/activate", {}, form_url=url).status_code == 302
    assert post_form(client, url, {**NEW, "points": "200"}).status_code == 302
    rows = rules_of(app)
    assert [(r[2], r[3], r[4]) for r in rows] == [(1, "ended", 150), (2, "active", 200)]
    v2 = rows[1][0]
    page = client.get(f"/admin/rules/{v2}").get_data(as_text=True)
    assert 'id="rule-versions"' in page and page.count(f'/admin/rules/{rule_id}"') >= 1
    assert client.get(url).status_code == 200 and "<form method=\"post\" action=\"/admin/rules/%d\"" % rule_id not in client.get(url).get_data(as_text=True)
    assert post_form(client, f"/admin/rules/{v2}/end", {}, form_url=f"/admin/rules/{v2}").status_code == 302
    assert [r[3] for r in rules_of(app)] == ["ended", "ended"]
    assert audits(app) == ["rule.create", "rule.activate", "rule.version", "rule.end"]


@pytest.mark.parametrize(("changes", "message"), [
    ({"points": ""}, "Points from 1 to 10,000,000."),
    ({"hour_to": ""}, "Give both ends of the hour window"),
    ({"trigger": "signup", "min_amount": "1000"}, "need the purchase trigger"),
    ({"effect": "percent", "percent": "120"}, "A percent above 0, at most 100."),
    ({"streak_bonuses": "seven:50"}, "Write day:points pairs"),
    ({"cap_points": "0"}, "At least 1."),
])
def test_invalid_rules_are_refused_with_a_field_error_and_nothing_saved(app, client, marketer, changes, message):
    response = post_form(client, "/admin/rules/new", {**NEW, **changes}, form_url="/admin/rules/new")
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert rules_of(app) == [] and audits(app) == []


def test_the_dry_run_shows_base_matched_and_unmatched_rules_and_writes_nothing(app, client, marketer):
    post_form(client, "/admin/rules/new", {**NEW, "weekdays": [], "hour_from": "", "hour_to": "",
                                          "min_amount": "500000", "name_en": "Big basket"})
    post_form(client, "/admin/rules/new", {**NEW, "weekdays": [], "hour_from": "", "hour_to": "",
                                          "name_en": "Coffee", "effect": "percent", "percent": "10",
                                          "points": "", "categories": "coffee"})
    for rule_id, *_ in rules_of(app):
        post_form(client, f"/admin/rules/{rule_id}/activate", {}, form_url=f"/admin/rules/{rule_id}")
    with app.app_context():
        entries = db.session.scalar(select(func.count()).select_from(LedgerEntry))
    query = {"amount": "100000", "items-0-sku": "C1", "items-0-category": "coffee",
             "items-0-qty": "2", "items-0-price": "20000", "channel": "pos"}
    fragment = client.get("/admin/rules/dry-run", query_string=query,
                          headers={"HX-Request": "true", "HX-Target": "dry-run-result"})
    html = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in html
    assert "Total: 4,010 points" in re.sub(r"\s+", " ", html)
    assert "Coffee" in html and "The amount is below the minimum." in html
    full = client.get("/admin/rules/dry-run", query_string=query).get_data(as_text=True)
    assert "<html" in full and "Total: 4,010 points" in re.sub(r"\s+", " ", full)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LedgerEntry)) == entries
    assert audits(app).count("rule.create") == 2


def test_a_purchase_shows_the_member_which_rule_gave_points(app, client, make_member, marketer):
    post_form(client, "/admin/rules/new", {**NEW, "weekdays": [], "hour_from": "", "hour_to": ""})
    rule_id = rules_of(app)[0][0]
    post_form(client, f"/admin/rules/{rule_id}/activate", {}, form_url=f"/admin/rules/{rule_id}")
    member = make_member(password="member-password-1", locale="en")
    with app.app_context():
        from webapp.services.ledger import purchases
        now = datetime.now(UTC)
        purchases.record_purchase(db.session, member_id=member.id, amount=10_000, currency="IRR",
                                  occurred_at=now, now=now)
        db.session.commit()
    other = app.test_client()
    post_form(other, "/login", {"login": member.email, "password": "member-password-1"})
    html = other.get("/me/activity").get_data(as_text=True)
    assert "Weekend double" in html and "+150" in html


@pytest.mark.parametrize(("effect", "extra", "shown"), [
    ("fixed", {"points": "50"}, "50 points"),
    ("per_amount", {"points": "2", "per_amount": "10000"}, "2 points per"),
    ("percent", {"points": "0", "percent": "1.5"}, "1.5% of the amount"),
])
def test_every_kind_of_effect_is_listed_in_words(client, marketer, effect, extra, shown):
    response = post_form(client, "/admin/rules/new", {**NEW, "effect": effect, **extra})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert client.get(response.headers["Location"]).status_code == 200
    listing = client.get("/admin/rules")
    assert listing.status_code == 200 and shown in listing.get_data(as_text=True)
