"""The tier card on /me and the levels page /me/tier, in English and Persian:
no program (placeholder), the entry level, mid-way with what leaves a rolling
window, at risk with the grace date, the top level, calendar deadlines, and
amounts worded by the program's metric (points, money, purchases)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from tests.helpers.web import log_in, text

PASSWORD = "a-good-password-1"
NAMES = {"en": ("Bronze", "Silver", "Gold", "Platinum"), "fa": ("برنزی", "نقره‌ای", "طلایی", "پلاتینی")}


def member(make_member, locale, **kwargs):
    email = f"{locale}-{kwargs.pop('tag', 'm')}@example.com"
    return make_member(email=email, password=PASSWORD, locale=locale, **kwargs), email


def use_program(app, program=None):
    from webapp.extensions import db
    from webapp.services import tiers
    from webapp.services.members import audit

    with app.app_context():
        program = program or tiers.default_program()
        tiers.save_program(db.session, program, actor=audit.CLI, now=datetime.now(UTC))
        db.session.commit()
        return tiers.load_program(db.session)


def earn(app, member_id, points, *, days_ago=0.0, key=None, evaluate_at=None):
    """Points earned `days_ago`, then the immediate upgrade check (as purchases do)."""
    from webapp.extensions import db
    from webapp.services import ledger, tiers

    when = datetime.now(UTC) - timedelta(days=days_ago)
    with app.app_context():
        ledger.award_points(db.session, member_id, points, key=key or f"earn:{member_id}:{points}:{days_ago}",
                            now=when)
        tiers.on_qualifying_event(db.session, member_id, now=evaluate_at or datetime.now(UTC))
        db.session.commit()
    return when


def tier_card(client) -> str:
    html = client.get("/me").get_data(as_text=True)
    return html.split('id="tier-card"')[1].split("</section>")[0]


def fmt(app, locale, kind, value):
    """A number or date exactly as the pages format it for `locale`."""
    from webapp import i18n

    with app.test_request_context():
        return {"points": i18n.format_points, "date": i18n.format_date, "money": i18n.format_money}[kind](
            value, locale=locale)


def last_day(when):
    return when - timedelta(seconds=1)


@pytest.mark.parametrize("locale", ["en", "fa"])
def test_without_a_program_the_card_stays_a_placeholder(client, make_member, locale):
    _m, email = member(make_member, locale, points=5_000)
    log_in(client, email)
    card = text(tier_card(client))
    assert ("Member" if locale == "en" else "عضو") in card
    assert "progressbar" not in card and not re.search(r"[0-9۰-۹]", card)
    page = client.get("/me/tier")
    assert page.status_code == 200
    assert 'id="tier-history"' not in page.get_data(as_text=True)


@pytest.mark.parametrize("locale", ["en", "fa"])
def test_a_new_member_sees_the_entry_level_and_the_first_step(app, client, make_member, locale):
    use_program(app)
    _m, email = member(make_member, locale)
    log_in(client, email)
    html = tier_card(client)
    card = text(html)
    bronze, silver = NAMES[locale][:2]
    assert bronze in card and silver in card
    assert 'role="progressbar"' in html and 'aria-valuenow="0"' in html
    assert 'aria-valuemin="0"' in html and 'aria-valuemax="100"' in html
    assert 'class="progress-fill w0"' in html
    needed = fmt(app, locale, "points", 1000)
    assert needed in card and re.search(r'aria-valuetext="[^"]*' + re.escape(needed), html)
    assert ("×1.1" if locale == "en" else "×۱٫۱") in card  # what Silver adds
    assert "chip-warn" not in html and 'id="tier-deadline"' not in html  # rolling: no period end
    assert 'href="/me/tier"' in html
    if locale == "en":
        assert "1,000 points more to reach Silver" in card
        assert "What Silver adds" in card and "Earn ×1.1 points instead of ×1" in card
        assert "Exclusive rewards unlocked" in card


@pytest.mark.parametrize("locale", ["en", "fa"])
def test_mid_way_shows_the_exact_amount_and_what_leaves_the_window(app, client, make_member, locale):
    use_program(app)
    m, email = member(make_member, locale)
    old = earn(app, m.id, 1_500, days_ago=340, key="old")  # leaves the 365-day window in 25 days
    earn(app, m.id, 1_000, days_ago=2, key="recent")
    log_in(client, email)
    html = tier_card(client)
    card = text(html)
    assert NAMES[locale][1] in card and NAMES[locale][2] in card  # Silver, next Gold
    assert 'aria-valuenow="50"' in html and "progress-fill w50" in html  # (2500-1000)/(4000-1000)
    assert fmt(app, locale, "points", 2_500) in card
    assert fmt(app, locale, "points", 1_500) in card  # still needed, and what leaves
    leaving = text(html.split('id="tier-leaving"')[1].split("</ul>")[0])
    assert fmt(app, locale, "date", old + timedelta(days=365)) in leaving
    assert fmt(app, locale, "points", 1_500) in leaving
    if locale == "en":
        assert "1,500 points more to reach Gold" in card
        assert "Points earned in the last 365 days" in card
        assert "25% more points on purchases" in card and "Free shipping" in card


@pytest.mark.parametrize("locale", ["en", "fa"])
def test_at_risk_shows_what_keeps_the_level_and_the_grace_date(app, client, make_member, locale):
    from webapp.extensions import db
    from webapp.models import Member
    from webapp.services import tiers

    use_program(app)
    m, email = member(make_member, locale)
    # Gold a year ago; only 1,000 points in the last 365 days now
    earn(app, m.id, 4_500, days_ago=371, key="long-ago",
         evaluate_at=datetime.now(UTC) - timedelta(days=370))
    earn(app, m.id, 1_000, days_ago=1, key="lately")
    with app.app_context():
        tiers.evaluate_all(db.session, now=datetime.now(UTC))
        db.session.commit()
        due = db.session.get(Member, m.id).downgrade_due_at
    assert due is not None
    log_in(client, email)
    html = tier_card(client)
    keep = text(html.split('id="tier-keep"')[1].split("</div>")[0])
    assert "chip-warn" in html and "tier-alert" in html
    assert NAMES[locale][2] in keep  # Gold
    assert fmt(app, locale, "points", 3_000) in keep
    assert fmt(app, locale, "date", last_day(due)) in keep
    if locale == "en":
        assert f"Add 3,000 points by {fmt(app, 'en', 'date', last_day(due))} to keep Gold." in keep
    # the next level is still shown beside the warning
    assert NAMES[locale][3] in text(html)


@pytest.mark.parametrize("locale", ["en", "fa"])
def test_the_top_level_shows_what_keeps_it(app, client, make_member, locale):
    use_program(app)
    m, email = member(make_member, locale)
    earn(app, m.id, 12_000, key="lots")
    log_in(client, email)
    html = tier_card(client)
    card = text(html)
    assert NAMES[locale][3] in card
    assert 'role="progressbar"' not in html and 'id="tier-top"' in html
    assert fmt(app, locale, "points", 10_000) in text(html.split('id="tier-top"')[1])
    if locale == "en":
        assert "You are at the top level." in card and "What keeps it: 10,000 points or more." in card


@pytest.mark.parametrize(("locale", "system"), [("en", "gregorian"), ("fa", "jalali")])
def test_a_calendar_program_gives_the_period_end_as_the_deadline(app, client, make_member, locale, system):
    from webapp.services import tiers
    from webapp.services.tiers import rules

    calendar = replace(tiers.default_program(), window_kind="calendar", calendar_period="month",
                       calendar_system=system)
    program = use_program(app, calendar)
    m, email = member(make_member, locale)
    earn(app, m.id, 300, key="this-month", days_ago=0)
    log_in(client, email)
    html = tier_card(client)
    _start, end = rules.window_bounds(program, datetime.now(UTC), app.config["VAFA_TIMEZONE"])
    deadline = text(html.split('id="tier-deadline"')[1].split("</p>")[0])
    assert fmt(app, locale, "date", last_day(end)) in deadline
    assert 'id="tier-leaving"' not in html  # nothing slides out of a calendar month
    if locale == "en":
        assert "Points earned this month" in text(html)
        assert "700 points more to reach Silver" in text(html)
    else:
        from webapp.i18n import JALALI_MONTHS_FA

        assert any(name in deadline for name in JALALI_MONTHS_FA)


def test_spend_and_purchase_programs_word_amounts_as_money_and_purchases(app, client, make_member):
    from webapp.extensions import db
    from webapp.services import tiers
    from webapp.services.ledger import purchases

    base = tiers.default_program()
    spend = replace(base, metric="spend", levels=tuple(
        replace(level, threshold=level.threshold * 10_000) for level in base.levels))
    use_program(app, spend)
    m, email = member(make_member, "en")
    with app.app_context():
        now = datetime.now(UTC)
        purchases.record_purchase(db.session, member_id=m.id, amount=2_500_000, currency="IRR",
                                  occurred_at=now - timedelta(hours=1), now=now)
        db.session.commit()
    log_in(client, email)
    card = text(tier_card(client))
    assert "Spent in the last 365 days" in card
    assert f"{fmt(app, 'en', 'money', 7_500_000)} more to reach Silver" in card

    counts = replace(base, metric="purchases", levels=tuple(
        replace(level, threshold=level.rank * 3) for level in base.levels))
    use_program(app, counts)
    card = text(tier_card(client))
    assert "Purchases in the last 365 days" in card and "1 purchase" in card
    assert "2 purchases more to reach Silver" in card


@pytest.mark.parametrize("locale", ["en", "fa"])
def test_the_levels_page_explains_every_level_and_marks_the_members_own(app, client, make_member, locale):
    use_program(app)
    m, email = member(make_member, locale)
    earn(app, m.id, 1_200, key="some")
    log_in(client, email)
    response = client.get("/me/tier")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    levels = html.split('class="tier-levels"')[1].split("</ol>")[0]
    names = [text(n) for n in re.findall(r'class="tier-level-name">(.*?)</h3>', levels)]
    assert names == list(NAMES[locale])  # all four, entry level first
    current = re.findall(r'<li class="card tier-level[^"]*" id="level-(\w+)" aria-current="true"', levels)
    assert current == ["silver"]
    for threshold in (1_000, 4_000, 10_000):
        assert fmt(app, locale, "points", threshold) in text(levels)
    assert fmt(app, locale, "points", 2_800) in text(levels)  # still to go for Gold
    history = text(html.split('id="tier-history"')[1].split("</ol>")[0])
    assert NAMES[locale][1] in history
    if locale == "en":
        assert "Earn points ×1.25" in text(levels) and "Free shipping" in text(levels)
        assert "Moved up to Silver" in history
        assert "keep your level for 30 more days" in text(html)
    else:
        assert "×۱٫۲۵" in text(levels) and 'dir="rtl"' in html


def test_the_level_pages_need_a_signed_in_member(client):
    for url in ("/me/tier", "/me"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_level_colour_that_is_not_a_hex_colour_never_reaches_the_page(app, client, make_member):
    from webapp.services import tiers

    base = tiers.default_program()
    odd = replace(base, levels=(replace(base.levels[0], color='"><i>x', icon="../../etc"),
                                *base.levels[1:]))
    use_program(app, odd)
    _m, email = member(make_member, "en")
    log_in(client, email)
    html = tier_card(client)
    assert "<i>" not in html and "&#34;&gt;" not in html and "etc" not in html
    assert 'fill="#8c6a4f"' in html  # the default colour and icon instead


def test_the_dashboard_links_the_wallet(client, make_member):
    _m, email = member(make_member, "en")
    log_in(client, email)
    html = client.get("/me").get_data(as_text=True)
    assert 'href="/me/wallet"' in html.split('class="balance-hero"')[1].split("</section>")[0]


def test_expiring_points_show_one_line_per_local_day(app, client, make_member):
    from zoneinfo import ZoneInfo

    from webapp.extensions import db
    from webapp.services import ledger

    m, email = member(make_member, "en")
    zone = ZoneInfo(app.config["VAFA_TIMEZONE"])
    day = (datetime.now(zone) + timedelta(days=10)).date()
    morning = datetime(day.year, day.month, day.day, 9, tzinfo=zone)
    with app.app_context():
        for n, when in enumerate((morning, morning + timedelta(hours=8), morning + timedelta(days=5))):
            ledger.award_points(db.session, m.id, 100 + n, key=f"lot-{n}", now=datetime.now(UTC),
                                expires_at=when)
        db.session.commit()
    log_in(client, email)
    html = client.get("/me").get_data(as_text=True)
    rows = [text(li) for li in re.findall(r"<li>(.*?)</li>",
                                          html.split('id="expiring-list"')[1].split("</ul>")[0], re.S)]
    assert len(rows) == 2
    assert "201" in rows[0] and "in 10 days" in rows[0] and fmt(app, "en", "date", morning) in rows[0]
    assert "102" in rows[1] and "in 15 days" in rows[1]
