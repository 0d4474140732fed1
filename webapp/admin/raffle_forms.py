"""The raffle forms: texts per locale, prizes (a few rows; blank rows are
skipped), the ticket price and cap, who may enter, the close and draw times as
club-local days (Jalali or Gregorian) and times, alternates, and the public
value source named in advance; plus the public value and cancel forms."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    FieldList,
    Form,
    FormField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from webapp.forms.days import ENTER_DAY, DayField, day_text, local_day
from webapp.forms.fields import Between, LocalIntegerField, strip
from webapp.i18n import ascii_digits
from webapp.services.play import raffles as service

PRIZE_KIND_LABELS = {
    "points": _l("Points"),
    "credit": _l("Store credit"),
    "reward": _l("A reward from the catalog"),
    "physical": _l("A physical item the club hands over"),
}
STATUS_LABELS = {"draft": _l("Draft"), "open": _l("Open"), "closed": _l("Closed"), "drawn": _l("Drawn"),
                 "cancelled": _l("Cancelled")}
_TIME = re.compile(r"([01]?\d|2[0-3])[:.]([0-5]\d)")
ENTER_TIME = _l("Enter a time as hours:minutes, for example 18:30.")


class TimeField(StringField):
    """hours:minutes in any digits."""

    def process_formdata(self, valuelist):
        self.data = None
        text = ascii_digits(valuelist[0] if valuelist else "").strip()
        if not text:
            return
        match = _TIME.fullmatch(text)
        if not match:
            raise ValueError(ENTER_TIME)
        self.data = time(int(match.group(1)), int(match.group(2)))

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return self.data.strftime("%H:%M") if isinstance(self.data, time) else (self.data or "")


class PrizeForm(Form):
    name_fa = StringField(_l("Prize in Persian"), filters=[strip], validators=[Optional(), Length(max=service.MAX_NAME)],
                          render_kw={"dir": "rtl", "lang": "fa"})
    name_en = StringField(_l("Prize in English"), filters=[strip], validators=[Optional(), Length(max=service.MAX_NAME)],
                          render_kw={"dir": "ltr", "lang": "en"})
    quantity = LocalIntegerField(_l("How many"), validators=[
        Optional(), Between(1, service.MAX_WINNERS, message=_l("Between 1 and 100."))],
        render_kw={"inputmode": "numeric", "dir": "ltr", "autocomplete": "off"})
    kind = SelectField(_l("Kind"), default="points", choices=[SelectChoice(k, v) for k, v in PRIZE_KIND_LABELS.items()])
    amount = LocalIntegerField(_l("Points or credit (smallest money unit)"), validators=[
        Optional(), Between(0, service.MAX_PRIZE_AMOUNT, message=_l("Between 0 and 100,000,000."))],
        render_kw={"inputmode": "numeric", "dir": "ltr", "autocomplete": "off"})
    reward = SelectField(_l("Catalog reward"), choices=[], validate_choice=True)

    @property
    def blank(self) -> bool:
        return not (self.name_fa.data or self.name_en.data)

    def check(self) -> bool:
        ok = True
        if self.blank:
            return True
        if not (self.name_fa.data and self.name_en.data):
            self.name_en.errors = [*self.name_en.errors, _l("Give the prize in both languages.")]
            ok = False
        if not self.quantity.data:
            self.quantity.errors = [*self.quantity.errors, _l("Between 1 and 100.")]
            ok = False
        if self.kind.data in ("points", "credit") and not self.amount.data:
            self.amount.errors = [*self.amount.errors, _l("Points and credit prizes need an amount.")]
            ok = False
        if self.kind.data == "reward" and not self.reward.data:
            self.reward.errors = [*self.reward.errors, _l("Choose the catalog reward.")]
            ok = False
        return ok

    def spec(self) -> service.PrizeSpec:
        return service.PrizeSpec(
            name_fa=self.name_fa.data, name_en=self.name_en.data, quantity=self.quantity.data, kind=self.kind.data,
            amount=self.amount.data or 0, reward_id=int(self.reward.data) if self.reward.data else None)


_DAY = {"dir": "ltr", "inputmode": "numeric", "autocomplete": "off", "placeholder": "1405-10-30"}
_HOUR = {"dir": "ltr", "inputmode": "numeric", "autocomplete": "off", "placeholder": "18:00"}


class RaffleForm(FlaskForm):
    name_fa = StringField(_l("Name in Persian"), filters=[strip], validators=[
        DataRequired(_l("Give the Persian name.")), Length(max=service.MAX_NAME)], render_kw={"dir": "rtl", "lang": "fa"})
    name_en = StringField(_l("Name in English"), filters=[strip], validators=[
        DataRequired(_l("Give the English name.")), Length(max=service.MAX_NAME)], render_kw={"dir": "ltr", "lang": "en"})
    description_fa = TextAreaField(_l("Description in Persian"), filters=[strip], validators=[Optional(), Length(max=1000)],
                                   render_kw={"dir": "rtl", "lang": "fa", "rows": 2})
    description_en = TextAreaField(_l("Description in English"), filters=[strip], validators=[Optional(), Length(max=1000)],
                                   render_kw={"dir": "ltr", "lang": "en", "rows": 2})
    prizes = FieldList(FormField(PrizeForm), min_entries=service.MAX_PRIZE_LINES, max_entries=service.MAX_PRIZE_LINES)
    ticket_price = LocalIntegerField(_l("Ticket price in points"), default=0, validators=[
        InputRequired(_l("Enter the price (0: tickets only come free).")),
        Between(0, service.MAX_PRICE, message=_l("Between 0 and 10,000,000."))],
        render_kw={"inputmode": "numeric", "dir": "ltr", "autocomplete": "off"})
    max_tickets_per_member = LocalIntegerField(_l("Most tickets per member"), default=10, validators=[
        InputRequired(_l("Enter the most tickets one member may have.")),
        Between(1, service.MAX_CAP, message=_l("Between 1 and 10,000."))],
        render_kw={"inputmode": "numeric", "dir": "ltr", "autocomplete": "off"})
    min_tier = SelectField(_l("Minimum level"), choices=[], validate_choice=True)
    segment = SelectField(_l("Segment"), choices=[], validate_choice=True)
    closes_on = DayField(_l("Closing day"), validators=[InputRequired(ENTER_DAY)], render_kw=_DAY)
    closes_time = TimeField(_l("Closing time"), validators=[InputRequired(ENTER_TIME)], render_kw=_HOUR)
    draw_on = DayField(_l("Draw day"), validators=[InputRequired(ENTER_DAY)], render_kw=_DAY)
    draw_time = TimeField(_l("Draw time"), validators=[InputRequired(ENTER_TIME)], render_kw=_HOUR)
    alternates = LocalIntegerField(_l("Alternates"), default=1, validators=[
        InputRequired(_l("Enter the number of alternates (0 is fine).")),
        Between(0, service.MAX_ALTERNATES, message=_l("Between 0 and 20."))],
        render_kw={"inputmode": "numeric", "dir": "ltr", "autocomplete": "off"})
    public_value_source = StringField(_l("Public value named in advance (optional)"), filters=[strip],
                                      validators=[Optional(), Length(max=300)],
                                      render_kw={"dir": "auto", "placeholder": "drand round 123456"})

    def set_choices(self, tiers, segments, rewards) -> None:
        self.min_tier.choices = [SelectChoice("", _l("Any level"))] + [SelectChoice(str(i), n) for i, n in tiers]
        self.segment.choices = [SelectChoice("", _l("Every member"))] + [SelectChoice(str(i), n) for i, n in segments]
        for row in self.prizes:
            row.form.reward.choices = [SelectChoice("", _l("None"))] + [SelectChoice(str(i), n) for i, n in rewards]

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        checked = [row.form.check() for row in self.prizes]  # every row, to mark all its errors
        ok = all(checked) and ok
        if all(row.form.blank for row in self.prizes):
            self.form_errors.append(_l("Give at least one prize."))
            ok = False
        return ok

    def validate_draw_time(self, field):
        if None in (self.closes_on.data, self.closes_time.data, self.draw_on.data, field.data):
            return
        if (self.draw_on.data, field.data) < (self.closes_on.data, self.closes_time.data):
            raise ValidationError(_l("The draw cannot be before the close."))

    def spec(self, tz: str) -> service.RaffleSpec:
        zone = ZoneInfo(tz)

        def at(day, hour):
            return datetime.combine(day, hour, zone).astimezone(UTC)

        return service.RaffleSpec(
            name_fa=self.name_fa.data, name_en=self.name_en.data,
            description_fa=self.description_fa.data, description_en=self.description_en.data,
            ticket_price=self.ticket_price.data, max_tickets_per_member=self.max_tickets_per_member.data,
            min_tier_id=int(self.min_tier.data) if self.min_tier.data else None,
            segment_id=int(self.segment.data) if self.segment.data else None,
            closes_at=at(self.closes_on.data, self.closes_time.data), draw_at=at(self.draw_on.data, self.draw_time.data),
            alternates=self.alternates.data, public_value_source=self.public_value_source.data or None,
            prizes=tuple(row.form.spec() for row in self.prizes if not row.form.blank))


def form_data(session, raffle, tz: str, locale: str) -> dict:
    """The form's fields for a saved raffle."""
    zone = ZoneInfo(tz)
    prizes = [{"name_fa": p.name_fa, "name_en": p.name_en, "quantity": p.quantity, "kind": p.kind,
               "amount": p.amount or None, "reward": str(p.reward_id or "")} for p in service.prizes_of(session, raffle.id)]
    return {
        "name_fa": raffle.name_fa, "name_en": raffle.name_en, "description_fa": raffle.description_fa or "",
        "description_en": raffle.description_en or "", "prizes": prizes, "ticket_price": raffle.ticket_price,
        "max_tickets_per_member": raffle.max_tickets_per_member, "min_tier": str(raffle.min_tier_id or ""),
        "segment": str(raffle.segment_id or ""), "alternates": raffle.alternates,
        "closes_on": day_text(local_day(raffle.closes_at, tz), locale),
        "closes_time": raffle.closes_at.astimezone(zone).time().replace(second=0, microsecond=0),
        "draw_on": day_text(local_day(raffle.draw_at, tz), locale),
        "draw_time": raffle.draw_at.astimezone(zone).time().replace(second=0, microsecond=0),
        "public_value_source": raffle.public_value_source or "",
    }


class PublicValueForm(FlaskForm):
    public_value = StringField(_l("The public value"), filters=[strip], validators=[
        DataRequired(_l("Enter the public value exactly as published.")), Length(max=300)],
        render_kw={"dir": "ltr", "autocomplete": "off"})


class CancelForm(FlaskForm):
    reason = StringField(_l("Reason"), filters=[strip], validators=[Optional(), Length(max=300)],
                         render_kw={"autocomplete": "off"})
