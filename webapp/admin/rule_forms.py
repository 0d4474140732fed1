"""Forms of the earn-rule designer and its dry run, and their mapping to the
pure engine's `Rule`/`Event` (the service validates; this only parses)."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from webapp.forms.days import DayField
from webapp.forms.fields import (
    Between,
    CheckboxesField,
    DecimalBetween,
    LocalDecimalField,
    LocalIntegerField,
    strip,
)
from webapp.i18n import ascii_digits, format_money, format_number
from webapp.services.offers import rule_engine

TRIGGER_LABELS = {
    "purchase": _l("Purchase"), "signup": _l("Sign-up"), "checkin": _l("Daily check-in"),
    "profile_completed": _l("Profile completed"), "birthday": _l("Birthday"),
    "referral_qualified": _l("Referral qualified"), "contest_played": _l("Contest played"),
    "raffle_entered": _l("Raffle entered"), "feedback_given": _l("Feedback given"),
    "instant_win_played": _l("Instant win played"),
}
EFFECT_LABELS = {"fixed": _l("Fixed points"), "per_amount": _l("Points per money step"),
                 "percent": _l("Percent of the amount")}
CAP_LABELS = {"day": _l("per day"), "week": _l("per week"), "month": _l("per month"),
              "ever": _l("ever")}
STATUS_LABELS = {"draft": _l("Draft"), "active": _l("Active"), "ended": _l("Ended")}
WEEKDAY_LABELS = ((5, _l("Saturday")), (6, _l("Sunday")), (0, _l("Monday")), (1, _l("Tuesday")),
                  (2, _l("Wednesday")), (3, _l("Thursday")), (4, _l("Friday")))
REASON_LABELS = {
    "not_started": _l("Not started yet at that time."),
    "expired": _l("Already over at that time."),
    "campaign": _l("Only for a campaign's members: depends on the member, not checked here."),
    "min_amount": _l("The amount is below the minimum."),
    "items": _l("No item of the listed SKUs or categories."),
    "channel": _l("Another channel."),
    "store": _l("Another store."),
    "weekday": _l("Not on one of its weekdays."),
    "hours": _l("Outside its hours."),
    "tier": _l("The member's level is not one of its levels."),
    "segment": _l("Only for a segment: depends on the member, not checked here."),
    "first_purchase": _l("Only for a member's first purchase."),
    "zero_points": _l("Matches, but gives 0 points for this amount."),
}
# what the service's check says, per field, in the staff member's language
PROBLEMS = {
    "trigger": _l("Amount, item, channel, store and first-purchase conditions need the purchase trigger."),
    "name_fa": _l("Give the rule a name in both languages."),
    "name_en": _l("Give the rule a name in both languages."),
    "effect": _l("Only purchases have an amount: other triggers give fixed points."),
    "percent": _l("A percent above 0, at most 100."),
    "points": _l("Points from 1 to 10,000,000."),
    "per_amount": _l("The money step must be at least 1."),
    "hour_to": _l("Give both ends of the hour window (0–24), and not the same hour."),
    "weekdays": _l("Choose weekdays from the list."),
    "skus": _l("At most 50."), "categories": _l("At most 50."), "channels": _l("At most 50."),
    "stores": _l("At most 50."),
    "cap_points": _l("A cap needs at least 1 point and a period."),
    "budget_points": _l("The budget must be at least 1 and not below what the rule has already given."),
    "ends_at": _l("The last day must not be before the first day."),
    "streak_bonuses": _l("Streak bonuses belong to check-in rules; days and points of at least 1."),
}
FIELD_OF = {"percent": "percent", "ends_at": "ends_on"}
MAX_ITEMS = 5
_BONUS = re.compile(r"^\s*(\d{1,4})\s*[:=]\s*(\d{1,8})\s*$")


def _words(text: str | None) -> list[str]:
    return [w.strip() for w in re.split(r"[,\n،]", text or "") if w.strip()]


def parse_bonuses(text: str | None) -> tuple[tuple[int, int], ...]:
    """"7:50, 30:300" → ((7, 50), (30, 300))."""
    out = {}
    for part in _words(ascii_digits(text or "")):
        match = _BONUS.match(part)
        if not match:
            raise ValueError(part)
        out[int(match[1])] = int(match[2])
    return tuple(sorted(out.items()))


class RuleForm(FlaskForm):
    name_fa = StringField(_l("Name (Persian)"), filters=[strip],
                          validators=[InputRequired(_l("Give the rule a name.")), Length(max=80)])
    name_en = StringField(_l("Name (English)"), filters=[strip],
                          validators=[InputRequired(_l("Give the rule a name.")), Length(max=80)])
    trigger = SelectField(_l("When"), choices=[SelectChoice(k, v) for k, v in TRIGGER_LABELS.items()])
    effect = SelectField(_l("Effect"), choices=[SelectChoice(k, v) for k, v in EFFECT_LABELS.items()])
    points = LocalIntegerField(_l("Points"), validators=[
        Optional(), Between(0, rule_engine.MAX_POINTS, message=_l("Points from 1 to 10,000,000."))],
        render_kw={"inputmode": "numeric", "dir": "ltr"})
    per_amount = LocalIntegerField(_l("For every (money, smallest unit)"), validators=[
        Optional(), Between(1, 10**12, message=_l("At least 1."))],
        render_kw={"inputmode": "numeric", "dir": "ltr"})
    percent = LocalDecimalField(_l("Percent of the amount"), places=2, validators=[
        Optional(), DecimalBetween(Decimal("0.01"), Decimal(100), _l("A percent above 0, at most 100."))],
        render_kw={"inputmode": "decimal", "dir": "ltr"})
    use_tier_multiplier = BooleanField(_l("Multiply by the member's level multiplier"), default=True)
    min_amount = LocalIntegerField(_l("Minimum amount"), validators=[
        Optional(), Between(0, 10**15, message=_l("Zero or more."))],
        render_kw={"inputmode": "numeric", "dir": "ltr"})
    skus = TextAreaField(_l("Product SKUs"), filters=[strip], validators=[Optional(), Length(max=2000)],
                         render_kw={"rows": 2, "dir": "ltr"})
    categories = TextAreaField(_l("Product categories"), filters=[strip],
                               validators=[Optional(), Length(max=2000)], render_kw={"rows": 2, "dir": "ltr"})
    channels = StringField(_l("Channels"), filters=[strip], validators=[Optional(), Length(max=500)],
                           render_kw={"dir": "ltr"})
    stores = StringField(_l("Stores"), filters=[strip], validators=[Optional(), Length(max=1000)],
                         render_kw={"dir": "ltr"})
    weekdays = CheckboxesField(_l("Weekdays"), coerce=int,
                               choices=[SelectChoice(k, v) for k, v in WEEKDAY_LABELS])
    hour_from = LocalIntegerField(_l("From hour"), validators=[
        Optional(), Between(0, 23, message=_l("An hour from 0 to 23."))],
        render_kw={"inputmode": "numeric", "dir": "ltr"})
    hour_to = LocalIntegerField(_l("To hour"), validators=[
        Optional(), Between(0, 24, message=_l("An hour from 0 to 24."))],
        render_kw={"inputmode": "numeric", "dir": "ltr"})
    tier_ids = CheckboxesField(_l("Levels"), coerce=int, choices=[])
    segment_id = SelectField(_l("Segment"), choices=[], validate_choice=True)
    first_purchase_only = BooleanField(_l("Only the member's first purchase"))
    cap_points = LocalIntegerField(_l("Cap per member (points)"), validators=[
        Optional(), Between(1, 10**12, message=_l("At least 1."))],
        render_kw={"inputmode": "numeric", "dir": "ltr"})
    cap_period = SelectField(_l("Cap period"), choices=[SelectChoice(k, v) for k, v in CAP_LABELS.items()])
    budget_points = LocalIntegerField(_l("Total budget (points)"), validators=[
        Optional(), Between(1, 10**15, message=_l("At least 1."))],
        render_kw={"inputmode": "numeric", "dir": "ltr"})
    streak_bonuses = StringField(_l("Streak bonuses (day:points)"), filters=[strip],
                                 validators=[Optional(), Length(max=300)],
                                 render_kw={"dir": "ltr", "placeholder": "7:50, 30:300"})
    starts_on = DayField(_l("First day"))
    ends_on = DayField(_l("Last day"))

    def validate_streak_bonuses(self, field):
        try:
            parse_bonuses(field.data)
        except ValueError as exc:
            raise ValidationError(_l("Write day:points pairs, for example 7:50, 30:300.")) from exc


def set_choices(form: RuleForm, levels, segments, locale: str) -> None:
    form.tier_ids.choices = [SelectChoice(lv.id, lv.name(locale)) for lv in levels if lv.id]
    form.segment_id.choices = [SelectChoice("", _l("Any member"))] + [
        SelectChoice(str(s.id), s.name) for s in segments]


def _midnight(day, tz: str) -> datetime | None:
    return None if day is None else datetime.combine(day, time(0), tzinfo=ZoneInfo(tz))


def rule_from_form(form: RuleForm, tz: str) -> rule_engine.Rule:
    """The rule the (field-valid) form describes. Days are club-local: from the
    first day's midnight up to the midnight after the last day."""
    cond = rule_engine.Conditions(
        min_amount=form.min_amount.data or None, skus=frozenset(_words(form.skus.data)),
        categories=frozenset(_words(form.categories.data)),
        channels=frozenset(_words(form.channels.data)), stores=frozenset(_words(form.stores.data)),
        weekdays=frozenset(form.weekdays.data or ()), hour_from=form.hour_from.data,
        hour_to=form.hour_to.data, tier_ids=frozenset(form.tier_ids.data or ()),
        segment_id=int(form.segment_id.data) if form.segment_id.data else None,
        first_purchase_only=bool(form.first_purchase_only.data),
    )
    percent = form.percent.data
    return rule_engine.Rule(
        id=None, family_id=None, trigger=form.trigger.data, name_fa=form.name_fa.data or "",
        name_en=form.name_en.data or "", conditions=cond, effect=form.effect.data,
        points=form.points.data or 0, per_amount=form.per_amount.data,
        percent_bp=int(percent * 100) if percent is not None else None,
        use_tier_multiplier=bool(form.use_tier_multiplier.data),
        cap_points=form.cap_points.data, cap_period=form.cap_period.data if form.cap_points.data else None,
        budget_points=form.budget_points.data, streak_bonuses=parse_bonuses(form.streak_bonuses.data),
        starts_at=_midnight(form.starts_on.data, tz),
        ends_at=_midnight(form.ends_on.data + timedelta(days=1), tz) if form.ends_on.data else None,
    )


def form_data(row, tz: str) -> dict:
    """A stored version as form data (to edit a draft or revise an active rule)."""
    cond = row.conditions or {}
    zone = ZoneInfo(tz)
    return {
        "name_fa": row.name_fa, "name_en": row.name_en, "trigger": row.trigger, "effect": row.effect,
        "points": row.points or None, "per_amount": row.per_amount,
        "percent": Decimal(row.percent_bp) / 100 if row.percent_bp else None,
        "use_tier_multiplier": row.use_tier_multiplier, "min_amount": cond.get("min_amount"),
        "skus": ", ".join(cond.get("skus", ())), "categories": ", ".join(cond.get("categories", ())),
        "channels": ", ".join(cond.get("channels", ())), "stores": ", ".join(cond.get("stores", ())),
        "weekdays": cond.get("weekdays", []), "hour_from": cond.get("hour_from"),
        "hour_to": cond.get("hour_to"), "tier_ids": cond.get("tier_ids", []),
        "segment_id": str(cond["segment_id"]) if cond.get("segment_id") else "",
        "first_purchase_only": bool(cond.get("first_purchase_only")),
        "cap_points": row.cap_points, "cap_period": row.cap_period or "day",
        "budget_points": row.budget_points,
        "streak_bonuses": ", ".join(f"{d}:{p}" for d, p in (row.streak_bonuses or {}).items()),
        "starts_on": row.starts_at.astimezone(zone).date() if row.starts_at else None,
        "ends_on": (row.ends_at.astimezone(zone) - timedelta(days=1)).date() if row.ends_at else None,
    }


def show_problems(form: RuleForm, problems: dict[str, str]) -> None:
    for name in problems:
        field = getattr(form, FIELD_OF.get(name, name), None)
        message = PROBLEMS.get(name, problems[name])
        if field is None:
            form.form_errors.append(message)
        else:
            field.errors = [*field.errors, message]


# -- the dry run -------------------------------------------------------------------


class ItemLineForm(Form):
    sku = StringField(_l("SKU"), filters=[strip], validators=[Optional(), Length(max=64)],
                      render_kw={"dir": "ltr"})
    category = StringField(_l("Category"), filters=[strip], validators=[Optional(), Length(max=64)],
                           render_kw={"dir": "ltr"})
    qty = LocalIntegerField(_l("Qty"), validators=[Optional(), Between(1, 10_000, message=_l("1 to 10,000."))],
                            render_kw={"inputmode": "numeric", "dir": "ltr"})
    price = LocalIntegerField(_l("Price"), validators=[Optional(), Between(0, 10**13, message=_l("Zero or more."))],
                              render_kw={"inputmode": "numeric", "dir": "ltr"})


class DryRunForm(FlaskForm):
    class Meta:
        csrf = False  # a GET that writes nothing

    amount = LocalIntegerField(_l("Purchase amount"), validators=[
        InputRequired(_l("Enter the amount.")), Between(1, 10**15, message=_l("At least 1."))],
        render_kw={"inputmode": "numeric", "dir": "ltr"})
    items = FieldList(FormField(ItemLineForm), min_entries=MAX_ITEMS, max_entries=MAX_ITEMS)
    channel = StringField(_l("Channel"), filters=[strip], validators=[Optional(), Length(max=32)],
                          render_kw={"dir": "ltr"})
    store = StringField(_l("Store"), filters=[strip], validators=[Optional(), Length(max=64)],
                        render_kw={"dir": "ltr"})
    day = DayField(_l("Date"), validators=[Optional()])
    hour = LocalIntegerField(_l("Hour"), validators=[Optional(), Between(0, 23, message=_l("An hour from 0 to 23."))],
                             render_kw={"inputmode": "numeric", "dir": "ltr"})
    tier = SelectField(_l("Level"), choices=[], validate_choice=False)
    first_purchase = BooleanField(_l("The member's first purchase"))


def event_from_dry_run(form: DryRunForm, tz: str, now: datetime) -> rule_engine.Event:
    zone = ZoneInfo(tz)
    local_now = now.astimezone(zone)
    day = form.day.data or local_now.date()
    hour = form.hour.data if form.hour.data is not None else local_now.hour
    at = datetime.combine(day, time(hour, 0 if form.hour.data is not None else local_now.minute),
                          tzinfo=zone)
    items = tuple(
        rule_engine.Item(row.sku.data or None, row.category.data or None, row.qty.data or 1,
                         row.price.data or 0)
        for row in form.items if row.sku.data or row.category.data)
    return rule_engine.Event(trigger="purchase", at=at, amount=form.amount.data, items=items,
                             channel=form.channel.data or None, store=form.store.data or None)


def effect_text(rule) -> str:
    """"50 points", "2 points per 10,000", "1.5% of the amount"."""
    if rule.effect == "fixed":
        return _("%(points)s points", points=format_number(rule.points))
    if rule.effect == "per_amount":
        return _("%(points)s points per %(amount)s", points=format_number(rule.points),
                 amount=format_money(rule.per_amount or 0))
    return _("%(percent)s%% of the amount", percent=format_number(Decimal(rule.percent_bp or 0) / 100))

