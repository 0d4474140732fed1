"""Every message kind has a default wording in Persian and English that uses only
its own variables and renders with params shaped like its cause's."""

from __future__ import annotations

import pytest
from jinja2.exceptions import SecurityError

from webapp.models import Member, OutboxMessage
from webapp.services.messages import catalog, render
from webapp.services.messages.samples import SAMPLES, sample_params
from webapp.services.messages.texts import DEFAULTS, default_text

CONFIG = {"SECRET_KEY": "k", "VAFA_PUBLIC_URL": "https://club.test", "VAFA_CLUB_NAME": "Vafa"}
PERSIAN_DIGITS = set("۰۱۲۳۴۵۶۷۸۹")


@pytest.fixture(autouse=True)
def _app_context(app):
    """E-mail is dressed in its page layout, which needs the app's templates."""
    with app.app_context():
        yield


@pytest.mark.parametrize("kind", sorted(catalog.KINDS))
@pytest.mark.parametrize("locale", ["fa", "en"])
def test_every_kind_has_a_default_in_both_languages_that_checks_and_renders(kind, locale):
    assert kind in DEFAULTS and locale in DEFAULTS[kind] and kind in SAMPLES
    text = default_text(kind, locale)
    render.check(kind, text.subject)
    render.check(kind, text.body)
    row = OutboxMessage(id=1, kind=kind, channel="email", params=sample_params(kind))
    member = Member(id=7, display_name="Sara", locale=locale)
    out = render.render(row, member, CONFIG, text, to="sara@example.com")
    assert out.subject and out.text and "{{" not in out.subject + out.text and "{%" not in out.text
    assert out.locale == locale
    numbers = [v for k, v in sample_params(kind).items() if isinstance(v, int) and not isinstance(v, bool)
               and k in catalog.kind_of(kind).variables and v > 9]
    if locale == "fa" and numbers and catalog.kind_of(kind).category != "essential":  # codes stay as typed
        assert PERSIAN_DIGITS & set(out.subject + out.text), out.text  # numbers through the `number` filter


def test_a_bilingual_name_reads_in_the_members_language():
    row = OutboxMessage(kind="challenge_completed", channel="email", params=sample_params("challenge_completed"))
    fa = render.variables(row, Member(display_name="Sara", locale="fa"), CONFIG, "fa")
    en = render.variables(row, Member(display_name="Sara", locale="en"), CONFIG, "en")
    assert (fa["challenge"], en["challenge"]) == ("پنج خرید در ماه", "Five visits a month")
    assert fa["name"] == "Sara"  # `name` stays the member's own
    only_en = OutboxMessage(kind="challenge_completed", channel="email",
                            params={**sample_params("challenge_completed"), "name_fa": ""})
    assert render.variables(only_en, Member(locale="fa"), CONFIG, "fa")["challenge"] == "Five visits a month"


def test_dates_are_jalali_in_persian_and_gregorian_in_english():
    row = OutboxMessage(id=1, kind="points_expiring", channel="email", params=sample_params("points_expiring"))
    fa = render.render(row, Member(id=1, locale="fa"), CONFIG, default_text("points_expiring", "fa"), to="x")
    en = render.render(row, Member(id=1, locale="en"), CONFIG, default_text("points_expiring", "en"), to="x")
    assert "دی ۱۴۰۵" in fa.text and "Jan 11, 2027" in en.text


def test_an_unknown_variable_is_refused_by_name():
    with pytest.raises(render.TemplateProblem) as refused:
        render.check("birthday", "Hi {{ name }}, {{ coupon }}")
    assert refused.value.variable == "coupon"


@pytest.mark.parametrize("source", ["{{ ''.__class__.__mro__ }}", "{{ name.upper.__self__ }}",
                                    "{{ name|attr('__class__') }}"])
def test_the_sandbox_itself_refuses_reaching_python_internals(source):
    with pytest.raises(SecurityError):
        render.fill(source, {"name": "Sara", "locale": "en"})
