"""`localized(obj, field)`: the one way to pick a text staff wrote in both languages."""

from __future__ import annotations

from types import SimpleNamespace

from webapp.i18n import localized
from webapp.models import Reward


def test_the_reader_language_picks_the_text_without_falling_back():
    reward = SimpleNamespace(name_fa="قهوه", name_en="Coffee", description_fa="", description_en="Hot")
    assert localized(reward, "name", "fa") == "قهوه"
    assert localized(reward, "name", "en") == "Coffee"
    assert localized(reward, "description", "fa") == ""


def test_dicts_and_mapped_columns_work_too():
    assert localized({"question_en": "Who wins?"}, "question", "en") == "Who wins?"
    assert localized({"question_en": "Who wins?"}, "question", "fa") is None
    assert localized(Reward, "name", "fa") is Reward.name_fa


def test_templates_have_it_as_a_filter_and_a_global(app):
    with app.test_request_context():
        template = app.jinja_env.from_string('{{ r|localized("name") }}/{{ localized(r, "name") }}')
        assert template.render(r=SimpleNamespace(name_fa="قهوه", name_en="Coffee")) == "Coffee/Coffee"


def test_whole_numbers_are_formatted_exactly_as_babel_formats_them():
    from babel.numbers import format_decimal

    from webapp.i18n import format_number, persian_digits

    samples = [0, 7, -7, 999, 1000, -1000, 12_345, 1_234_567, -98_765_432, 10**15, 2**63 - 1]
    for n in samples:
        assert format_number(n, "en") == format_decimal(n, locale="en")
        # Babel's fa data groups with Latin separators; the page shows Persian ones
        assert format_number(n, "fa") == persian_digits(format_decimal(n, locale="fa")).replace(",", "٬")
