"""Staff side of tiers: the program editor (/admin/tiers: preview, then confirm)
and the tier card with overrides and history on the member page."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import jdatetime
import pytest
from sqlalchemy import func, select

from tests.helpers.web import in_db, post_form
from tests.helpers.web import sign_in_staff as sign_in
from webapp.models import AuditLog, Member, TierHistory, TierProgram
from webapp.services import tiers
from webapp.services.members import audit
from webapp.services.tiers.rules import Level, Program

ROLES = ("owner", "marketer", "operator", "auditor")
SMALL = Program(
    metric="points_earned", window_kind="rolling", window_days=365, grace_days=30,
    levels=(
        Level(0, "base", "پایه", "Base", 0),
        Level(1, "silver", "نقره‌ای", "Silver", 100, 12_500, color="#6b7785", icon="star",
              benefits=({"fa": "ارسال رایگان", "en": "Free shipping"},),
              perks={"free_shipping": True, "extra_raffle_tickets": 1, "fee_rebate_bp": 0,
                     "rewards_unlocked": True}),
        Level(2, "gold", "طلایی", "Gold", 500, 15_000, color="#9a6b00", icon="crown"),
    ),
)


# -- helpers ---------------------------------------------------------------------------


def count(app, model, *where):
    return in_db(app, lambda s: s.scalar(select(func.count()).select_from(model).where(*where)))


def program_audits(app):
    return in_db(app, lambda s: list(s.scalars(
        select(AuditLog).where(AuditLog.action == "tiers.program").order_by(AuditLog.id))))


def version(app):
    return in_db(app, lambda s: s.scalar(select(TierProgram.version)))


def seed(app, program=SMALL):
    def save(s):
        tiers.save_program(s, program, actor=audit.CLI, now=datetime.now(UTC))
        s.commit()

    in_db(app, save)


def evaluate(app, when=None):
    def run(s):
        tiers.evaluate_all(s, now=when or datetime.now(UTC))
        s.commit()

    in_db(app, run)


def form_data(program=SMALL, *, version_text="", **changes) -> dict:
    """The editor's fields for `program`, as a browser posts them."""
    data = {
        "metric": program.metric, "window_kind": program.window_kind,
        "window_days": str(program.window_days), "calendar_period": program.calendar_period or "year",
        "calendar_system": program.calendar_system, "grace_days": str(program.grace_days),
        "rebate_money_per_point": str(program.rebate_money_per_point), "version": version_text,
        "token": secrets.token_urlsafe(12),  # each page load gets its own
    }
    if program.allow_overrides:
        data["allow_overrides"] = "y"
    for i, lv in enumerate(program.levels):
        perks = lv.perks or {}
        row = {
            "code": lv.code, "name_fa": lv.name_fa, "name_en": lv.name_en, "threshold": str(lv.threshold),
            "multiplier": str(Decimal(lv.earn_multiplier_bp) / 10_000), "color": lv.color, "icon": lv.icon,
            "benefits_fa": "\n".join(b["fa"] for b in lv.benefits),
            "benefits_en": "\n".join(b["en"] for b in lv.benefits),
            "extra_raffle_tickets": str(perks.get("extra_raffle_tickets", 0)),
            "fee_rebate_percent": str(Decimal(perks.get("fee_rebate_bp", 0)) / 100),
        }
        row.update({k: "y" for k in ("free_shipping", "rewards_unlocked") if perks.get(k)})
        data.update({f"levels-{i}-{k}": v for k, v in row.items()})
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def preview(client, data, **kwargs):
    return post_form(client, "/admin/tiers", data, form_url="/admin/", **kwargs)


def digest_of(response) -> str:
    return re.search(r'name="digest" value="([0-9a-f]{64})"', response.get_data(as_text=True)).group(1)


def preview_and_save(client, data):
    shown = preview(client, data)
    assert shown.status_code == 200, shown.get_data(as_text=True)
    return post_form(client, "/admin/tiers/save", {**data, "digest": digest_of(shown)}, form_url="/admin/")


def member_row(app, member_id):
    return in_db(app, lambda s: s.get(Member, member_id))


def tier_id(app, code):
    return next(lv.id for lv in in_db(app, tiers.load_program).levels if lv.code == code)


# -- who may do what ----------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_owners_and_marketers_edit_the_program_others_are_refused(app, client, make_staff, role):
    allowed = role in ("owner", "marketer")
    sign_in(client, make_staff(role))
    assert client.get("/admin/tiers").status_code == (200 if allowed else 403)
    assert preview(client, form_data()).status_code == (200 if allowed else 403)
    saved = post_form(client, "/admin/tiers/save", {**form_data(), "digest": "x" * 64}, form_url="/admin/")
    assert saved.status_code == (409 if allowed else 403)  # a wrong fingerprint only re-previews
    if allowed:
        assert preview_and_save(client, form_data()).status_code == 302
    assert count(app, TierProgram) == (1 if allowed else 0)
    assert len(program_audits(app)) == (1 if allowed else 0)
    nav = re.search(r'<nav class="admin-nav".*?</nav>', client.get("/admin/").get_data(as_text=True), re.S)
    assert ('href="/admin/tiers"' in nav.group(0)) == allowed


@pytest.mark.parametrize("role", ROLES)
def test_owners_and_operators_override_a_level_others_are_refused(app, client, make_staff, make_member,
                                                                   role):
    seed(app)
    member = make_member()
    allowed = role in ("owner", "operator")
    sign_in(client, make_staff(role))
    page = client.get(f"/admin/members/{member.id}").get_data(as_text=True)
    assert 'id="tier-card"' in page
    assert (f"/admin/members/{member.id}/tier-override" in page) == allowed
    response = post_form(client, f"/admin/members/{member.id}/tier-override", {
        "override-tier": "gold", "override-until": _future_day(10), "override-reason": "VIP guest"},
        form_url="/admin/")
    assert response.status_code == (302 if allowed else 403)
    assert (member_row(app, member.id).tier_override_id is not None) == allowed
    assert count(app, AuditLog, AuditLog.action == "member.tier_override") == (1 if allowed else 0)


# -- starting and editing -----------------------------------------------------------------


def test_without_a_program_the_page_offers_the_default_and_saving_it_creates_it(app, owner_client):
    html = owner_client.get("/admin/tiers").get_data(as_text=True)
    assert 'id="no-program"' in html
    for n, name in enumerate(["Bronze", "Silver", "Gold", "Platinum"]):
        assert f'name="levels-{n}-name_en" required type="text" value="{name}"' in html
    assert 'name="levels-4-code"' not in html
    assert in_db(app, tiers.load_program) is None  # opening the page saves nothing

    response = preview_and_save(owner_client, form_data(tiers.default_program()))
    assert response.status_code == 302 and response.headers["Location"] == "/admin/tiers"
    saved = in_db(app, tiers.load_program)
    assert [lv.code for lv in saved.levels] == ["bronze", "silver", "gold", "platinum"]
    assert [lv.earn_multiplier_bp for lv in saved.levels] == [10_000, 11_000, 12_500, 15_000]
    page = owner_client.get("/admin/tiers").get_data(as_text=True)
    assert "The tier program is saved." in page and 'id="no-program"' not in page


def test_add_level_button_adds_a_row_without_saving_and_keeps_what_was_typed(app, owner_client):
    data = form_data(**{"levels-1-name_en": "Silver edited", "levels-2-threshold": "not yet"})
    response = preview(owner_client, {**data, "add_level": "1"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'name="levels-3-code"' in html and 'name="levels-4-code"' not in html
    assert 'value="Silver edited"' in html and 'value="not yet"' in html
    assert 'id="levels-2-threshold-error"' not in html  # adding a row is not a submit
    assert count(app, TierProgram) == 0


def test_remove_level_button_removes_that_row_and_renumbers(owner_client):
    response = preview(owner_client, {**form_data(), "remove_level": "1"})
    html = response.get_data(as_text=True)
    assert 'name="levels-2-code"' not in html
    assert 'name="levels-1-code" required type="text" value="gold"' in html
    assert 'name="levels-0-code" required type="text" value="base"' in html


def test_a_calendar_program_on_spend_is_saved_as_entered(app, owner_client):
    data = form_data(metric="spend", window_kind="calendar", window_days="", calendar_period="quarter",
                     calendar_system="gregorian", grace_days="0", rebate_money_per_point="250",
                     **{"levels-1-threshold": "5000000", "levels-2-threshold": "20000000"})
    assert preview_and_save(owner_client, data).status_code == 302
    saved = in_db(app, tiers.load_program)
    assert (saved.metric, saved.window_kind, saved.calendar_period, saved.calendar_system) == (
        "spend", "calendar", "quarter", "gregorian")
    assert saved.grace_days == 0 and saved.rebate_money_per_point == 250
    assert [lv.threshold for lv in saved.levels] == [0, 5_000_000, 20_000_000]
    html = owner_client.get("/admin/tiers").get_data(as_text=True)
    assert "In the smallest money unit (IRR)." in html  # thresholds are money now


def test_decimals_are_parsed_exactly_into_basis_points(app, owner_client):
    data = form_data(**{"levels-1-multiplier": "۱٫۲۵", "levels-2-multiplier": "1.0001",
                        "levels-1-fee_rebate_percent": "12.5", "levels-2-fee_rebate_percent": "0.01",
                        "levels-2-extra_raffle_tickets": "۳", "levels-2-free_shipping": "y",
                        "levels-2-benefits_fa": "یک\nدو", "levels-2-benefits_en": "One\nTwo",
                        "levels-2-color": "#ABCDEF"})
    assert preview_and_save(owner_client, data).status_code == 302
    _base, silver, gold = in_db(app, tiers.load_program).levels
    assert (silver.earn_multiplier_bp, gold.earn_multiplier_bp) == (12_500, 10_001)
    assert (silver.perks["fee_rebate_bp"], gold.perks["fee_rebate_bp"]) == (1250, 1)
    assert gold.perks == {"free_shipping": True, "extra_raffle_tickets": 3, "fee_rebate_bp": 1,
                          "rewards_unlocked": False}
    assert list(gold.benefits) == [{"fa": "یک", "en": "One"}, {"fa": "دو", "en": "Two"}]
    assert gold.color == "#abcdef"
    # and they come back to the form as typed decimals
    html = owner_client.get("/admin/tiers").get_data(as_text=True)
    assert 'name="levels-1-multiplier" required type="text" value="1.25"' in html
    assert 'name="levels-1-fee_rebate_percent" required type="text" value="12.5"' in html


# -- validation ----------------------------------------------------------------------------


@pytest.mark.parametrize("changes,error_field", [
    ({"levels-2-threshold": "50"}, "levels-2-threshold"),  # not above silver
    ({"levels-2-threshold": "100"}, "levels-2-threshold"),  # equal is not above
    ({"levels-0-threshold": "10"}, "levels-0-threshold"),  # the entry level starts at 0
    ({"levels-1-code": "base"}, "levels-1-code"),  # codes are unique
    ({"levels-1-code": "Gold Star"}, "levels-1-code"),
    ({"levels-1-name_fa": " "}, "levels-1-name_fa"),
    ({"levels-1-threshold": "-5"}, "levels-1-threshold"),
    ({"levels-1-threshold": "abc"}, "levels-1-threshold"),
    ({"levels-1-multiplier": "1.23456"}, "levels-1-multiplier"),
    ({"levels-1-multiplier": "abc"}, "levels-1-multiplier"),
    ({"levels-1-multiplier": "10.5"}, "levels-1-multiplier"),
    ({"levels-1-multiplier": "1e3"}, "levels-1-multiplier"),
    ({"levels-1-fee_rebate_percent": "12.345"}, "levels-1-fee_rebate_percent"),
    ({"levels-1-fee_rebate_percent": "101"}, "levels-1-fee_rebate_percent"),
    ({"levels-1-extra_raffle_tickets": "-1"}, "levels-1-extra_raffle_tickets"),
    ({"levels-1-benefits_en": "Free shipping\nA second one"}, "levels-1-benefits_en"),
    ({"levels-1-color": "red"}, "levels-1-color"),
    ({"levels-1-icon": "skull"}, "levels-1-icon"),
    ({"window_days": "0"}, "window_days"),
    ({"window_days": ""}, "window_days"),
    ({"grace_days": "400"}, "grace_days"),
    ({"metric": "vibes"}, "metric"),
    ({"window_kind": "forever"}, "window_kind"),
])
def test_invalid_programs_are_form_errors_and_save_nothing(app, owner_client, changes, error_field):
    data = form_data(**changes)
    for url in ("/admin/tiers", "/admin/tiers/save"):
        response = post_form(owner_client, url, {**data, "digest": "0" * 64}, form_url="/admin/")
        html = response.get_data(as_text=True)
        assert response.status_code == 422, url
        assert f'id="{error_field}-error"' in html, url
        assert 'aria-invalid="true"' in html and 'id="form-errors"' in html
        assert 'name="digest"' not in html  # no save button for an invalid program
    assert count(app, TierProgram) == 0 and program_audits(app) == []


def test_every_rule_of_the_program_checker_lands_on_a_field(owner_client):
    html = preview(owner_client, form_data(**{
        "levels-0-threshold": "10", "levels-2-threshold": "100", "levels-2-code": "silver"})).get_data(
        as_text=True)
    for field in ("levels-0-threshold", "levels-2-threshold", "levels-1-code", "levels-2-code"):
        assert f'id="{field}-error"' in html, field
    assert "Must be above the level before it (100)." in html


# -- preview and save ----------------------------------------------------------------------


def test_preview_counts_match_what_the_nightly_evaluation_then_does(app, owner_client, make_member):
    seed(app)
    members = {name: make_member(points=p) for name, p in
               (("a", 50), ("b", 150), ("c", 600), ("d", None))}
    evaluate(app)  # a, d: base; b: silver; c: gold
    change = form_data(**{"levels-1-threshold": "40", "levels-2-threshold": "700"}, version_text="1")

    response = preview(owner_client, change)
    html = response.get_data(as_text=True)
    # a rises to silver, c falls to silver, b and d stay
    assert "1 members move up, 1 move down and 2 stay where they are" in html
    after = dict(re.findall(r'data-code="(\w+)">(\d+)<', html))
    assert after == {"base": "1", "silver": "3", "gold": "0"}
    now_counts = re.findall(r'data-label="Members now" class="num">(\d+)<', html)
    assert now_counts == ["2", "1", "1"]
    assert count(app, TierProgram, TierProgram.version == 1) == 1  # previewing saved nothing

    assert post_form(owner_client, "/admin/tiers/save", {**change, "digest": digest_of(response)},
                     form_url="/admin/").status_code == 302
    evaluate(app)
    evaluate(app, datetime.now(UTC) + timedelta(days=31))  # c's grace is over
    held = {name: member_row(app, m.id).tier_id for name, m in members.items()}
    ids = {code: tier_id(app, code) for code in ("base", "silver", "gold")}
    assert held == {"a": ids["silver"], "b": ids["silver"], "c": ids["silver"], "d": ids["base"]}


def test_saving_is_audited_with_before_and_after_and_moves_the_version(app, owner_client):
    assert preview_and_save(owner_client, form_data()).status_code == 302
    assert version(app) == 1
    changed = form_data(version_text="1", grace_days="10", **{"levels-2-name_en": "Golden"})
    assert preview_and_save(owner_client, changed).status_code == 302
    assert version(app) == 2
    first, second = program_audits(app)
    assert first.before is None and first.after["levels"][2]["name_en"] == "Gold"
    assert second.before["grace_days"] == 30 and second.after["grace_days"] == 10
    assert second.before["levels"][2]["name_en"] == "Gold"
    assert second.after["levels"][2]["name_en"] == "Golden"
    assert second.staff_id is not None and second.object_type == "tier_program"


def test_a_double_submitted_save_is_saved_once(app, owner_client):
    data = form_data()
    shown = preview(owner_client, data)
    confirm = {**data, "digest": digest_of(shown)}
    first = post_form(owner_client, "/admin/tiers/save", confirm, form_url="/admin/")
    second = post_form(owner_client, "/admin/tiers/save", confirm, form_url="/admin/")
    assert first.status_code == second.status_code == 302
    assert version(app) == 1 and len(program_audits(app)) == 1
    assert "already submitted" in owner_client.get("/admin/tiers").get_data(as_text=True)


def test_a_save_without_its_form_token_is_refused(app, owner_client):
    data = form_data()
    confirm = {**data, "digest": digest_of(preview(owner_client, data)), "token": ""}
    response = post_form(owner_client, "/admin/tiers/save", confirm, form_url="/admin/")
    assert response.status_code == 422 and "one-time token" in response.get_data(as_text=True)
    assert count(app, TierProgram) == 0


def test_a_save_after_someone_else_saved_shows_a_fresh_preview_and_saves_nothing(app, owner_client):
    seed(app)
    data = form_data(version_text="1", **{"levels-1-threshold": "200"})
    shown = preview(owner_client, data)
    seed(app, Program(**{**SMALL.__dict__, "grace_days": 5}))  # a colleague, meanwhile
    response = post_form(owner_client, "/admin/tiers/save", {**data, "digest": digest_of(shown)},
                         form_url="/admin/")
    html = response.get_data(as_text=True)
    assert response.status_code == 409 and "Someone saved the program" in html
    assert 'name="version" type="hidden" value="2"' in html and 'name="digest"' in html
    assert version(app) == 2 and in_db(app, tiers.load_program).levels[1].threshold == 100


def test_a_program_changed_after_its_preview_is_previewed_again_not_saved(app, owner_client):
    data = form_data()
    shown = preview(owner_client, data)
    edited = {**data, "levels-2-threshold": "900", "digest": digest_of(shown)}
    response = post_form(owner_client, "/admin/tiers/save", edited, form_url="/admin/")
    assert response.status_code == 409
    assert "changed after the preview" in response.get_data(as_text=True)
    assert count(app, TierProgram) == 0
    # the fresh preview's own save button then saves what it shows
    again = post_form(owner_client, "/admin/tiers/save", {**edited, "digest": digest_of(response)},
                      form_url="/admin/")
    assert again.status_code == 302 and in_db(app, tiers.load_program).levels[2].threshold == 900


def test_htmx_live_preview_returns_only_the_preview_fragment(app, owner_client, make_member):
    seed(app)
    make_member(points=150)
    evaluate(app)  # silver
    headers = {"HX-Request": "true", "HX-Target": "tier-preview"}
    response = preview(owner_client, form_data(version_text="1", **{"levels-1-threshold": "200"}),
                       headers=headers)
    html = response.get_data(as_text=True).strip()
    assert response.status_code == 200
    assert html.startswith('<section id="tier-preview"') and html.endswith("</section>")
    assert "<html" not in html and 'name="levels-0-code"' not in html
    assert "0 members move up, 1 move down" in html and 'name="digest"' in html
    assert "HX-Request" in response.headers["Vary"]
    # problems come back as a list (htmx swaps only 2xx answers), with no save button
    bad = preview(owner_client, form_data(**{"levels-2-threshold": "50"}), headers=headers)
    text = bad.get_data(as_text=True)
    assert bad.status_code == 200 and 'id="preview-problems"' in text
    assert "Level 2 · Threshold: Must be above the level before it (100)." in text
    assert 'name="digest"' not in text and "<html" not in text


def test_the_editor_works_without_javascript_and_carries_htmx_beside_it(owner_client):
    html = owner_client.get("/admin/tiers").get_data(as_text=True)
    form = re.search(r'<form id="tier-form"[^>]*method="post" action="/admin/tiers"', html)
    assert form and 'name="add_level"' in html and 'name="remove_level" value="1"' in html
    assert 'hx-post="/admin/tiers"' in html and 'hx-include="#tier-form"' in html
    # Enter in a field previews: the first submit button in the form is "preview"
    first_button = re.search(r"<button[^>]*>", html[html.index('id="tier-form"'):]).group(0)
    assert 'name="preview"' in first_button


# -- the member page ----------------------------------------------------------------------


def _future_day(days: int) -> str:
    return (datetime.now(ZoneInfo("Asia/Tehran")).date() + timedelta(days=days)).isoformat()


def test_member_card_shows_level_metric_and_what_the_next_level_needs(app, owner_client, make_member):
    seed(app)
    member = make_member(points=150)
    evaluate(app)
    html = owner_client.get(f"/admin/members/{member.id}").get_data(as_text=True)
    card = html[html.index('id="tier-card"'):]
    assert re.search(r'id="tier-level">.*Silver', card)
    assert 'id="tier-metric">150 points<' in card
    assert "Gold" in card and "350 points more" in card
    assert "Upgrade" in card and 'id="tier-history"' in card  # base → silver, from the evaluation
    assert 'id="tier-at-risk"' not in card


def test_member_card_shows_at_risk_and_grace(app, owner_client, make_member):
    seed(app)
    member = make_member(points=150)
    evaluate(app)
    seed(app, Program(**{**SMALL.__dict__, "levels": (
        SMALL.levels[0], Level(1, "silver", "نقره‌ای", "Silver", 200), SMALL.levels[2].__class__(
            **{**SMALL.levels[2].__dict__, "threshold": 900}))}))
    evaluate(app)
    card = owner_client.get(f"/admin/members/{member.id}").get_data(as_text=True)
    assert 'id="tier-at-risk"' in card and "50 points more keeps this level" in card
    assert 'id="tier-grace"' in card and "At risk" in card


def test_override_with_a_reason_is_saved_audited_and_shown(app, owner_client, make_member):
    seed(app)
    member = make_member(points=10)
    response = post_form(owner_client, f"/admin/members/{member.id}/tier-override", {
        "override-tier": "gold", "override-until": _future_day(30), "override-reason": "Press partner"},
        form_url="/admin/")
    assert response.status_code == 302
    row = member_row(app, member.id)
    gold = tier_id(app, "gold")
    assert row.tier_override_id == gold and row.tier_id == gold
    local_end = row.tier_override_until.astimezone(ZoneInfo("Asia/Tehran"))
    assert local_end.isoformat()[:10] == _future_day(31) and local_end.hour == 0  # through that day
    [entry] = in_db(app, lambda s: list(s.scalars(
        select(AuditLog).where(AuditLog.action == "member.tier_override"))))
    assert entry.reason == "Press partner" and entry.after["override"] == "gold"
    assert entry.object_id == str(member.id) and entry.staff_id is not None
    html = owner_client.get(f"/admin/members/{member.id}").get_data(as_text=True)
    assert "Tier override saved." in html and 'id="tier-override"' in html and "Staff override" in html

    ended = post_form(owner_client, f"/admin/members/{member.id}/tier-override", {
        "override-tier": "", "override-until": "", "override-reason": "Partnership over"},
        form_url="/admin/")
    assert ended.status_code == 302
    row = member_row(app, member.id)
    assert row.tier_override_id is None and row.tier_id == tier_id(app, "base")


def test_override_dates_may_be_jalali_in_persian_digits(app, owner_client, make_member):
    seed(app)
    member = make_member()
    day = datetime.now(ZoneInfo("Asia/Tehran")).date() + timedelta(days=40)
    j = jdatetime.date.fromgregorian(date=day)
    typed = f"{j.year}/{j.month:02d}/{j.day:02d}".translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    response = post_form(owner_client, f"/admin/members/{member.id}/tier-override", {
        "override-tier": "silver", "override-until": typed, "override-reason": "Birthday gift"},
        form_url="/admin/")
    assert response.status_code == 302
    until = member_row(app, member.id).tier_override_until.astimezone(ZoneInfo("Asia/Tehran"))
    assert until.date() == day + timedelta(days=1)


@pytest.mark.parametrize("data,error", [
    ({"override-tier": "gold", "override-until": "2099-01-01", "override-reason": ""}, "override-reason"),
    ({"override-tier": "gold", "override-until": "2099-01-01", "override-reason": "ab"}, "override-reason"),
    ({"override-tier": "gold", "override-until": "", "override-reason": "A good reason"}, "override-until"),
    ({"override-tier": "gold", "override-until": "yesterday", "override-reason": "A good reason"},
     "override-until"),
    ({"override-tier": "gold", "override-until": "2020-01-01", "override-reason": "A good reason"},
     "override-until"),  # the service refuses an end in the past
    ({"override-tier": "gold", "override-until": "2026-02-30", "override-reason": "A good reason"},
     "override-until"),
    ({"override-tier": "diamond", "override-until": "2099-01-01", "override-reason": "A good reason"},
     "override-tier"),
])
def test_bad_overrides_are_form_errors_and_change_nothing(app, owner_client, make_member, data, error):
    seed(app)
    member = make_member()
    response = post_form(owner_client, f"/admin/members/{member.id}/tier-override", data,
                         form_url="/admin/")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and f'id="{error}-error"' in html
    assert "<details class=\"tier-override\" open>" in html  # the form opens to show the error
    assert member_row(app, member.id).tier_override_id is None
    assert count(app, AuditLog, AuditLog.action == "member.tier_override") == 0


def test_overrides_are_refused_when_the_program_does_not_allow_them(app, owner_client, make_member):
    seed(app, Program(**{**SMALL.__dict__, "allow_overrides": False}))
    member = make_member()
    page = owner_client.get(f"/admin/members/{member.id}").get_data(as_text=True)
    assert 'id="tier-card"' in page and "tier-override" not in page
    response = post_form(owner_client, f"/admin/members/{member.id}/tier-override", {
        "override-tier": "gold", "override-until": _future_day(5), "override-reason": "VIP"},
        form_url="/admin/")
    assert response.status_code == 409
    assert "does not allow overrides" in response.get_data(as_text=True)
    assert member_row(app, member.id).tier_override_id is None
    assert count(app, AuditLog, AuditLog.action == "member.tier_override") == 0


def test_override_of_an_unknown_member_is_404(app, owner_client):
    seed(app)
    response = post_form(owner_client, "/admin/members/424242/tier-override", {
        "override-tier": "gold", "override-until": _future_day(5), "override-reason": "VIP"},
        form_url="/admin/")
    assert response.status_code == 404


def test_member_page_without_a_program_links_to_the_editor(owner_client, make_member):
    member = make_member()
    html = owner_client.get(f"/admin/members/{member.id}").get_data(as_text=True)
    assert "no tier program yet" in html and 'href="/admin/tiers"' in html


def test_member_page_runs_the_same_number_of_queries_for_1_or_20_tier_changes(
    app, owner_client, make_member, count_queries):
    seed(app)
    member = make_member(points=150)
    evaluate(app)  # one history row
    owner_client.get(f"/admin/members/{member.id}")  # warm up
    with count_queries() as few:
        owner_client.get(f"/admin/members/{member.id}")
    ids = [tier_id(app, code) for code in ("base", "silver", "gold")]

    def more_history(s):
        s.add_all(TierHistory(member_id=member.id, from_tier_id=ids[n % 3], to_tier_id=ids[(n + 1) % 3],
                              reason="override", metric_value=n, actor="staff:1", key=f"test:{n}",
                              created_at=datetime.now(UTC)) for n in range(19))
        s.commit()

    in_db(app, more_history)
    with count_queries() as many:
        html = owner_client.get(f"/admin/members/{member.id}").get_data(as_text=True)
    table = html[html.index('id="tier-history"'):]
    assert table[:table.index("</table>")].count("<tr>") == 21  # header + the latest 20
    assert len(many) == len(few)


# -- languages and small screens -----------------------------------------------------------


@pytest.mark.parametrize("locale", ["fa", "en"])
def test_tier_pages_render_in_both_languages_phone_friendly_and_self_contained(
    app, client, make_staff, make_member, locale
):
    app.config["VAFA_LOCALE"] = locale
    seed(app)
    member = make_member(points=1234)
    evaluate(app)
    sign_in(client, make_staff("owner"))
    direction = "rtl" if locale == "fa" else "ltr"
    pages = [client.get("/admin/tiers"), preview(client, form_data(version_text="1")),
             client.get(f"/admin/members/{member.id}")]
    for response in pages:
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert f'<html lang="{locale}" dir="{direction}">' in html
        assert 'content="width=device-width' in html
        assert "style=" not in html and not re.search(r'\swidth="\d{3,}', html)  # nothing fixed-width
        assert not re.search(r'(src|href|action|formaction)="(https?:)?//', html)
    member_page = pages[2].get_data(as_text=True)
    if locale == "fa":
        assert "۱٬۲۳۴" in member_page and "طلایی" in member_page  # Persian digits, Persian level name
        assert "سطح" in pages[0].get_data(as_text=True)  # "Levels", translated
    else:
        assert "1,234 points" in member_page and "Gold" in member_page


@pytest.mark.real_commits
def test_two_simultaneous_saves_of_one_form_save_once(app, make_staff):
    """A double click sends both at once: the version lets exactly one through."""
    import threading

    owner = make_staff("owner")
    clients = [app.test_client(), app.test_client()]
    for c in clients:
        sign_in(c, owner)
    data = form_data()
    confirm = {**data, "digest": digest_of(preview(clients[0], data))}
    start, statuses = threading.Barrier(2), []

    def submit(c):
        start.wait()
        statuses.append(post_form(c, "/admin/tiers/save", confirm, form_url="/admin/").status_code)

    threads = [threading.Thread(target=submit, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [302, 302]
    assert version(app) == 1 and len(program_audits(app)) == 1


def test_staff_catalog_translates_every_staff_string_and_is_compiled():
    """New staff pages (tiers, wallet) come with their Persian; the .mo is fresh."""
    from pathlib import Path

    from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg
    from babel.messages.mofile import read_mo
    from babel.messages.pofile import read_po

    root = Path(__file__).resolve().parents[2]
    folder = root / "webapp" / "admin" / "translations" / "fa" / "LC_MESSAGES"
    with open(root / "webapp" / "admin" / "babel.cfg") as f:
        method_map, options_map = parse_mapping_cfg(f)
    found = extract_from_dir(str(root), method_map, options_map,
                             keywords={**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None},
                             directory_filter=lambda p: Path(p).name not in {".git", "node_modules"})
    extracted = {m if isinstance(m, str) else m[0] for _f, _l, m, _c, _x in found}
    with open(folder / "messages.po", "rb") as f:
        catalog = read_po(f, locale="fa")
    assert {"Tiers", "Save the program", "Wallet settings saved."} <= extracted
    assert sorted(m for m in extracted if not (catalog.get(m) and catalog.get(m).string)) == []
    assert [m.id for m in catalog if m.id and m.fuzzy] == []
    assert [(m.id, e) for m, e in catalog.check() if e] == []
    def key(value):  # plural ids and strings: tuples in .po, lists in .mo
        return tuple(value) if isinstance(value, list | tuple) else value

    with open(folder / "messages.mo", "rb") as f:
        compiled = {key(m.id): key(m.string) for m in read_mo(f) if m.id}
    assert compiled == {key(m.id): key(m.string) for m in catalog if m.id}
