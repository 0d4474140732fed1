"""The segment editor's form: one fixed row per kind of condition; a row left
empty adds no condition, so the builder works without JavaScript. Also the
conditions in words, for the list and the detail page."""

from __future__ import annotations

from babel.dates import get_month_names
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from webapp.forms.choices import LOCALE_NAMES, locale_choices
from webapp.forms.days import DayField
from webapp.forms.fields import Between, CheckboxesField, LocalIntegerField, strip
from webapp.i18n import JALALI_MONTHS_FA, format_date, format_money, format_number
from webapp.problems import show_problems
from webapp.services.offers import segments
from webapp.services.offers.segments import LIMITS, NO_TIER, WINDOW_DAYS

JALALI_MONTHS_EN = ("Farvardin", "Ordibehesht", "Khordad", "Tir", "Mordad", "Shahrivar",
                    "Mehr", "Aban", "Azar", "Dey", "Bahman", "Esfand")
ANY = ""


def month_names(calendar: str, locale: str) -> list[str]:
    if calendar == "jalali":
        return list(JALALI_MONTHS_FA if locale == "fa" else JALALI_MONTHS_EN)
    names = get_month_names("wide", locale=locale)
    return [names[m] for m in range(1, 13)]


def _number(label, name, *, hint_low=None):
    low, high = LIMITS[name]
    low = hint_low if hint_low is not None else low
    return LocalIntegerField(label, validators=[
        Optional(), Between(low, high, message=_l("Between %(low)s and %(high)s.", low=f"{low:,}",
                                                  high=f"{high:,}"))],
        render_kw={"inputmode": "numeric", "dir": "ltr", "autocomplete": "off"})


def _days(label, default=30):
    low, high = WINDOW_DAYS
    return LocalIntegerField(label, default=default, validators=[
        Optional(), Between(low, high, message=_l("Between %(low)s and %(high)s days.", low=low, high=high))],
        render_kw={"inputmode": "numeric", "dir": "ltr", "autocomplete": "off"})


def _yes_no(label):
    return SelectField(label, default=ANY, choices=[
        SelectChoice(ANY, _l("Any")), SelectChoice("yes", _l("Yes")), SelectChoice("no", _l("No"))])


class SegmentForm(FlaskForm):
    name = StringField(_l("Name"), filters=[strip], validators=[
        DataRequired(_l("Give the segment a name.")), Length(max=80, message=_l("At most 80 characters."))],
        render_kw={"autocomplete": "off", "maxlength": 80})
    description = TextAreaField(_l("Description (for staff)"), filters=[strip], validators=[
        Length(max=300, message=_l("At most 300 characters."))], render_kw={"rows": 2, "maxlength": 300})

    tiers = CheckboxesField(_l("Level is any of"), choices=[])
    points_min = _number(_l("Points balance at least"), "points")
    points_max = _number(_l("Points balance at most"), "points")
    credit_min = _number(_l("Store credit at least"), "credit")
    credit_max = _number(_l("Store credit at most"), "credit")
    spend_min = _number(_l("Spend at least"), "spend")
    spend_max = _number(_l("Spend at most"), "spend")
    spend_days = _days(_l("Spend in the last (days)"))
    purchases_min = _number(_l("Purchases at least"), "purchases")
    purchases_max = _number(_l("Purchases at most"), "purchases")
    purchases_days = _days(_l("Purchases in the last (days)"))
    last_purchase_min = _number(_l("Last purchase at least (days ago)"), "last_purchase")
    last_purchase_max = _number(_l("Last purchase at most (days ago)"), "last_purchase")
    never_purchased = SelectField(_l("Never purchased"), default=ANY, choices=[
        SelectChoice(ANY, _l("Any")), SelectChoice("yes", _l("Only members who never purchased"))])
    joined_after = DayField(_l("Joined on or after"), render_kw={
        "dir": "ltr", "autocomplete": "off", "placeholder": "1405-01-01"})
    joined_before = DayField(_l("Joined before"), render_kw={
        "dir": "ltr", "autocomplete": "off", "placeholder": "1405-07-01"})
    joined_within = _number(_l("Joined within the last (days)"), "joined")
    birthday_jalali = CheckboxesField(_l("Birthday in (Jalali months)"), choices=[])
    birthday_gregorian = CheckboxesField(_l("Birthday in (Gregorian months)"), choices=[])
    referrals_min = _number(_l("Friends referred at least"), "referrals")
    locale = SelectField(_l("Language"), default=ANY, choices=locale_choices(
        SelectChoice(ANY, _l("Any"))))
    consent_email = _yes_no(_l("Agreed to e-mail"))
    consent_sms = _yes_no(_l("Agreed to SMS"))
    # which segment the editor is for ("" when new): the count endpoint re-renders it
    segment_id = HiddenField()

    def set_choices(self, levels, locale: str) -> None:
        self.tiers.choices = [SelectChoice(str(lv.id), lv.name(locale)) for lv in levels if lv.id is not None]
        self.tiers.choices.append(SelectChoice(NO_TIER, _l("No level stored (not evaluated yet)")))
        for calendar in ("jalali", "gregorian"):
            getattr(self, f"birthday_{calendar}").choices = [
                SelectChoice(str(m), n) for m, n in enumerate(month_names(calendar, locale), start=1)]


def conditions_from(form: SegmentForm) -> list[dict]:
    """The conditions the filled-in rows describe (after form.validate())."""
    out: list[dict] = []

    def bounds(name, low, high, **extra):
        if low.data is not None:
            out.append({"field": name, "op": "gte", "value": low.data, **extra})
        if high.data is not None:
            out.append({"field": name, "op": "lte", "value": high.data, **extra})

    if form.tiers.data:
        out.append({"field": "tier", "op": "in",
                    "value": [v if v == NO_TIER else int(v) for v in form.tiers.data]})
    bounds("points", form.points_min, form.points_max)
    bounds("credit", form.credit_min, form.credit_max)
    bounds("spend", form.spend_min, form.spend_max, days=form.spend_days.data or 30)
    bounds("purchases", form.purchases_min, form.purchases_max, days=form.purchases_days.data or 30)
    bounds("last_purchase", form.last_purchase_min, form.last_purchase_max)
    if form.never_purchased.data == "yes":
        out.append({"field": "last_purchase", "op": "never"})
    if form.joined_after.data:
        out.append({"field": "joined", "op": "after", "value": form.joined_after.data.isoformat()})
    if form.joined_before.data:
        out.append({"field": "joined", "op": "before", "value": form.joined_before.data.isoformat()})
    if form.joined_within.data is not None:
        out.append({"field": "joined", "op": "within", "value": form.joined_within.data})
    for calendar in ("jalali", "gregorian"):
        months = getattr(form, f"birthday_{calendar}").data
        if months:
            out.append({"field": "birthday", "op": calendar, "value": [int(m) for m in months]})
    if form.referrals_min.data is not None:
        out.append({"field": "referrals", "op": "gte", "value": form.referrals_min.data})
    if form.locale.data:
        out.append({"field": "locale", "op": "eq", "value": form.locale.data})
    for name in ("consent_email", "consent_sms"):
        if getattr(form, name).data:
            out.append({"field": name, "op": "eq", "value": getattr(form, name).data == "yes"})
    return out


def form_data(segment) -> dict:
    """The form's fields for a saved segment."""
    data = {"name": segment.name, "description": segment.description or "",
            "segment_id": str(segment.id)}
    for c in segment.conditions:
        name, op, value = c["field"], c["op"], c.get("value")
        if name == "tier":
            data["tiers"] = [str(v) for v in value]
        elif name in ("points", "credit", "spend", "purchases", "last_purchase") and op != "never":
            data[f"{name}_{'min' if op == 'gte' else 'max'}"] = value
            if "days" in c:
                data[f"{name}_days"] = c["days"]
        elif name == "last_purchase":
            data["never_purchased"] = "yes"
        elif name == "joined":
            data[f"joined_{op}"] = value
        elif name == "birthday":
            data[f"birthday_{op}"] = [str(m) for m in value]
        elif name == "referrals":
            data["referrals_min"] = value
        elif name == "locale":
            data["locale"] = value
        else:
            data[name] = "yes" if value else "no"
    return data


# cross-field problems from segments.check_conditions, on the field they are about
PROBLEM_FIELDS = {
    ("points", "bounds"): "points_max",
    ("credit", "bounds"): "credit_max",
    ("spend", "bounds"): "spend_max",
    ("purchases", "bounds"): "purchases_max",
    ("last_purchase", "bounds"): "last_purchase_max",
    ("last_purchase", "never_purchased_conflict"): "never_purchased",
    ("joined", "joined_order"): "joined_before",
}


def problem_fields(form: SegmentForm):
    """The form field a problem shows on (None: above the form)."""
    return lambda p: getattr(form, PROBLEM_FIELDS[p.field, p.code]) if (p.field, p.code) in PROBLEM_FIELDS else None


def checked_conditions(form: SegmentForm) -> list[dict] | None:
    """The conditions, if the form and segments.check_conditions both accept them."""
    if not form.validate():
        return None
    conditions = conditions_from(form)
    problems = segments.check_conditions(conditions)
    if problems:
        show_problems(form, problems, fields=problem_fields(form))
        return None
    return segments.normalise(conditions)


# -- the conditions in words ---------------------------------------------------------------


def describe(conditions: list[dict], levels_by_id: dict, locale: str) -> list[str]:
    """One line per condition, in the staff member's language ("Spend in the last
    30 days at least 2,000,000 rials"). An empty list: every active member."""
    lines = []
    for c in conditions:
        name, op, value = c["field"], c["op"], c.get("value")
        n = format_number(value) if isinstance(value, int) and not isinstance(value, bool) else ""
        if name == "tier":
            names = [levels_by_id[v].name(locale) if v in levels_by_id else
                     (_("no level stored") if v == NO_TIER else _("removed level #%(id)s", id=v))
                     for v in value]
            lines.append(_("Level: %(levels)s", levels=_join(names, locale)))
        elif name == "points":
            lines.append(_("Points balance at least %(n)s", n=n) if op == "gte"
                         else _("Points balance at most %(n)s", n=n))
        elif name == "credit":
            lines.append(_("Store credit at least %(money)s", money=format_money(value)) if op == "gte"
                         else _("Store credit at most %(money)s", money=format_money(value)))
        elif name == "spend":
            days = format_number(c["days"])
            lines.append(_("Spend in the last %(days)s days at least %(money)s", days=days,
                           money=format_money(value)) if op == "gte"
                         else _("Spend in the last %(days)s days at most %(money)s", days=days,
                                money=format_money(value)))
        elif name == "purchases":
            days = format_number(c["days"])
            lines.append(_("At least %(n)s purchases in the last %(days)s days", n=n, days=days) if op == "gte"
                         else _("At most %(n)s purchases in the last %(days)s days", n=n, days=days))
        elif name == "last_purchase":
            lines.append(_("Never purchased") if op == "never"
                         else _("Last purchase at least %(n)s days ago", n=n) if op == "gte"
                         else _("Last purchase at most %(n)s days ago", n=n))
        elif name == "joined":
            if op == "within":
                lines.append(_("Joined in the last %(n)s days", n=n))
            else:
                day = format_date(_iso(value))
                lines.append(_("Joined on or after %(day)s", day=day) if op == "after"
                             else _("Joined before %(day)s", day=day))
        elif name == "birthday":
            names = month_names(op, locale)
            months = _join([names[m - 1] for m in value], locale)
            lines.append(_("Birthday in %(months)s (Jalali)", months=months) if op == "jalali"
                         else _("Birthday in %(months)s (Gregorian)", months=months))
        elif name == "referrals":
            lines.append(_("Referred at least %(n)s friends", n=n))
        elif name == "locale":
            lines.append(_("Language: %(language)s", language=LOCALE_NAMES.get(value, LOCALE_NAMES["en"])))
        elif name == "consent_email":
            lines.append(_("Agreed to e-mail") if value else _("Did not agree to e-mail"))
        elif name == "consent_sms":
            lines.append(_("Agreed to SMS") if value else _("Did not agree to SMS"))
    return lines


def _join(items: list[str], locale: str) -> str:
    return ("، " if locale == "fa" else ", ").join(items)


def _iso(text: str):
    from datetime import date

    return date.fromisoformat(text)
