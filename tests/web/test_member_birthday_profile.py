"""/me/settings: the birthday typed in the member's calendar (Jalali with Persian
digits in fa, Gregorian in en) is stored as a Gregorian date and shown back in
the same calendar; impossible dates are refused without changing anything; the
save that completes the profile earns the profile-completed rule exactly once."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from tests.helpers.web import post_form

PASSWORD = "a-good-password-1"
URL = "/me/settings"


@pytest.fixture
def sign_in(make_member, client):
    def signed_in(*, locale="fa", mobile="09121234567", display_name="Sara"):
        made = make_member(email="sara@example.com", mobile=mobile, password=PASSWORD,
                           display_name=display_name, locale=locale)
        assert post_form(client, "/login", {"login": made.email, "password": PASSWORD}).status_code == 302
        return made

    return signed_in


def save(client, *, birthday, locale="fa", display_name="Sara"):
    return post_form(client, URL, {"display_name": display_name, "birthday": birthday, "locale": locale})


def stored(app, member_id):
    from webapp.extensions import db
    from webapp.models import Member

    with app.app_context():
        found = db.session.get(Member, member_id)
        return found.birthday, found.display_name, found.points_balance


def birthday_input(html: str) -> str:
    tag = re.search(r'<input[^>]*name="birthday"[^>]*>', html).group(0)
    return re.search(r'value="([^"]*)"', tag).group(1) if 'value="' in tag else ""


def add_profile_rule(app, points=200) -> int:
    from webapp.extensions import db
    from webapp.services.members import audit
    from webapp.services.offers import earn_rules
    from webapp.services.offers.rule_engine import Rule

    now = datetime.now(UTC)
    with app.app_context():
        row = earn_rules.create_rule(db.session, Rule(
            None, None, "profile_completed", "تکمیل نمایه", "Profile completed", points=points,
            use_tier_multiplier=False), actor=audit.CLI, now=now)
        earn_rules.activate_rule(db.session, row.id, actor=audit.CLI, now=now)
        db.session.commit()
        return row.family_id or row.id


def profile_awards(app, member_id) -> list[int]:
    from webapp.extensions import db
    from webapp.models import LedgerEntry

    with app.app_context():
        return list(db.session.scalars(select(LedgerEntry.amount).where(
            LedgerEntry.member_id == member_id, LedgerEntry.idempotency_key.like("profile_completed:%"))))


def test_a_jalali_birthday_in_persian_digits_is_stored_gregorian_and_shown_back_in_jalali(app, client, sign_in):
    member = sign_in(locale="fa")
    response = save(client, birthday="۱۳۷۰-۰۶-۲۱")
    assert response.status_code == 302
    assert stored(app, member.id)[0] == date(1991, 9, 12)  # 21 Shahrivar 1370
    html = client.get(URL).get_data(as_text=True)
    assert birthday_input(html) == "1370-06-21"


def test_the_last_day_of_a_jalali_leap_year_is_a_real_birthday(app, client, sign_in):
    member = sign_in(locale="fa")
    assert save(client, birthday="1370/12/30").status_code == 302  # 1370 is a Jalali leap year
    assert stored(app, member.id)[0] == date(1992, 3, 20)
    assert birthday_input(client.get(URL).get_data(as_text=True)) == "1370-12-30"


def test_a_gregorian_birthday_in_english_is_stored_and_shown_as_typed(app, client, sign_in):
    member = sign_in(locale="en")
    assert save(client, birthday="1991-09-12", locale="en").status_code == 302
    assert stored(app, member.id)[0] == date(1991, 9, 12)
    assert birthday_input(client.get(URL).get_data(as_text=True)) == "1991-09-12"


@pytest.mark.parametrize("typed", ["1370-13-40", "۱۳۷۱-۱۲-۳۰", "1800-01-01", "1991-02-30", "12-09-1991",
                                   "yesterday"])
def test_an_impossible_birthday_is_a_form_error_and_changes_nothing(app, client, sign_in, typed):
    member = sign_in(locale="en")
    assert save(client, birthday="1991-09-12", locale="en").status_code == 302
    response = save(client, birthday=typed, locale="en", display_name="Changed")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="birthday-error"' in html and "year-month-day" in html
    assert birthday_input(html) == typed  # what was typed stays in the box to correct
    assert stored(app, member.id)[:2] == (date(1991, 9, 12), "Sara")


def test_an_impossible_birthday_is_explained_in_persian(app, client, sign_in):
    sign_in(locale="fa")
    html = save(client, birthday="1370-13-40").get_data(as_text=True)
    error = re.search(r'id="birthday-error">([^<]*)<', html).group(1)
    assert "year-month-day" not in error and re.search(r"[\u0600-\u06FF]", error)


def test_completing_the_profile_earns_the_rule_once_ever(app, client, sign_in):
    add_profile_rule(app, points=200)
    member = sign_in(locale="fa")
    assert save(client, birthday="").status_code == 302  # no birthday yet: not complete
    assert profile_awards(app, member.id) == []

    assert save(client, birthday="۱۳۷۰-۰۶-۲۱").status_code == 302
    assert profile_awards(app, member.id) == [200]
    assert stored(app, member.id)[2] == 200

    save(client, birthday="۱۳۷۰-۰۶-۲۱", display_name="Sara K.")  # saving again
    save(client, birthday="")  # clearing the birthday …
    assert stored(app, member.id)[0] is None
    save(client, birthday="1370-06-22")  # … and setting it again
    assert profile_awards(app, member.id) == [200]
    assert stored(app, member.id)[2] == 200


def test_a_profile_without_a_mobile_number_is_not_complete(app, client, sign_in):
    add_profile_rule(app)
    member = sign_in(locale="fa", mobile=None)
    assert save(client, birthday="1370-06-21").status_code == 302
    assert stored(app, member.id)[0] == date(1991, 9, 12)
    assert profile_awards(app, member.id) == []
