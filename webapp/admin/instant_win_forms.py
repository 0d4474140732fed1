"""The instant-win game form: texts per locale, style, cost, plays a day, the
open days (club-local, Jalali or Gregorian), who may play, an optional points
budget, and up to MAX_ROWS prizes whose odds are typed "1 in N" or as a percent."""

from __future__ import annotations

from datetime import timedelta

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

from webapp.forms.days import ENTER_DAY, DayField, day_start, day_text, local_day
from webapp.forms.fields import Between, LocalIntegerField, strip
from webapp.services.play import instant_win as service
from webapp.services.play.instant_win import GameSpec, PrizeSpec

MAX_ROWS = 6
STYLE_LABELS = {"wheel": _l("Spin the wheel"), "scratch": _l("Scratch card")}
KIND_LABELS = {"points": _l("Points"), "credit": _l("Store credit"), "reward": _l("A reward from the catalog")}
STATUS_LABELS = {"draft": _l("Draft"), "active": _l("Published"), "ended": _l("Ended")}
NUMBER = {"inputmode": "numeric", "dir": "ltr", "autocomplete": "off"}
PRIZE_FIELDS = ("name_fa", "name_en", "kind", "value", "reward", "odds", "quantity")


class PrizeForm(Form):
    """One prize row; a row left empty is no prize."""

    name_fa = StringField(_l("Prize name in Persian"), filters=[strip], validators=[Length(max=service.MAX_NAME)],
                          render_kw={"dir": "rtl", "lang": "fa", "maxlength": service.MAX_NAME})
    name_en = StringField(_l("Prize name in English"), filters=[strip], validators=[Length(max=service.MAX_NAME)],
                          render_kw={"dir": "ltr", "lang": "en", "maxlength": service.MAX_NAME})
    kind = SelectField(_l("Kind"), default="points", choices=[SelectChoice(k, v) for k, v in KIND_LABELS.items()])
    value = LocalIntegerField(_l("Points, or credit in the smallest money unit"), render_kw=NUMBER)
    reward = SelectField(_l("Catalog reward"), default="", choices=[], validate_choice=True)
    odds = StringField(_l("Odds"), filters=[strip], validators=[Length(max=40)],
                       render_kw={"dir": "ltr", "autocomplete": "off", "placeholder": "1 in 50"})
    quantity = LocalIntegerField(_l("How many to give"), render_kw=NUMBER)

    @property
    def empty(self) -> bool:
        return not any((self.name_fa.data, self.name_en.data, self.value.raw_data and self.value.raw_data[0],
                        self.reward.data, self.odds.data, self.quantity.raw_data and self.quantity.raw_data[0]))

    def check(self) -> bool:
        """The row's own rules (only for rows that are not empty)."""
        ok = True

        def fail(field, message):
            nonlocal ok
            field.errors = [*field.errors, message]
            ok = False

        if not self.name_fa.data:
            fail(self.name_fa, _l("Give the Persian name."))
        if not self.name_en.data:
            fail(self.name_en, _l("Give the English name."))
        if self.kind.data in ("points", "credit") and not (self.value.data and self.value.data > 0):
            fail(self.value, _l("A positive whole number."))
        if self.kind.data == "reward" and not self.reward.data:
            fail(self.reward, _l("Choose the reward."))
        try:
            self.ppm = service.parse_odds(self.odds.data or "")
        except ValueError:
            self.ppm = None
            fail(self.odds, _l("Write the odds as 1 in N (for example 1 in 50) or as a percent (for example 2%)."))
        if self.quantity.data is None or not 0 < self.quantity.data <= service.MAX_QUANTITY:
            fail(self.quantity, _l("Between 1 and 10,000,000."))
        return ok

    def spec(self) -> PrizeSpec:
        return PrizeSpec(name_fa=self.name_fa.data, name_en=self.name_en.data, kind=self.kind.data,
                         value=self.value.data or 0, reward_id=int(self.reward.data) if self.reward.data else None,
                         odds_ppm=self.ppm, quantity=self.quantity.data)


class GameForm(FlaskForm):
    name_fa = StringField(_l("Name in Persian"), filters=[strip], validators=[
        DataRequired(_l("Give the Persian name.")), Length(max=service.MAX_NAME)],
        render_kw={"dir": "rtl", "lang": "fa", "maxlength": service.MAX_NAME})
    name_en = StringField(_l("Name in English"), filters=[strip], validators=[
        DataRequired(_l("Give the English name.")), Length(max=service.MAX_NAME)],
        render_kw={"dir": "ltr", "lang": "en", "maxlength": service.MAX_NAME})
    description_fa = TextAreaField(_l("Description in Persian"), filters=[strip],
                                   validators=[Optional(), Length(max=1000)],
                                   render_kw={"dir": "rtl", "lang": "fa", "rows": 2})
    description_en = TextAreaField(_l("Description in English"), filters=[strip],
                                   validators=[Optional(), Length(max=1000)],
                                   render_kw={"dir": "ltr", "lang": "en", "rows": 2})
    style = SelectField(_l("Style"), default="wheel", choices=[SelectChoice(k, v) for k, v in STYLE_LABELS.items()])
    cost_points = LocalIntegerField(_l("Cost of a play in points (0 = free)"), default=0, validators=[
        InputRequired(_l("Enter the cost (0 for free).")),
        Between(0, service.MAX_COST, message=_l("Between 0 and 10,000,000."))], render_kw=NUMBER)
    daily_plays = LocalIntegerField(_l("Plays per member per day"), default=1, validators=[
        InputRequired(_l("Enter the plays a day.")),
        Between(1, service.MAX_DAILY_PLAYS, message=_l("Between 1 and 1,000."))], render_kw=NUMBER)
    opens_on = DayField(_l("First day"), validators=[InputRequired(ENTER_DAY)],
                        render_kw={**NUMBER, "placeholder": "1405-10-01"})
    closes_on = DayField(_l("Last day"), validators=[InputRequired(ENTER_DAY)],
                         render_kw={**NUMBER, "placeholder": "1405-10-30"})
    min_tier = SelectField(_l("Minimum level"), choices=[], validate_choice=True)
    segment = SelectField(_l("Segment"), choices=[], validate_choice=True)
    points_budget = LocalIntegerField(_l("Points budget for the whole game (optional)"), validators=[
        Optional(), Between(1, service.MAX_BUDGET, message=_l("A positive whole number."))], render_kw=NUMBER)
    prizes = FieldList(FormField(PrizeForm), min_entries=MAX_ROWS, max_entries=MAX_ROWS)

    def set_choices(self, tiers, segments, rewards) -> None:
        """Choices from the database: (id, label) pairs; "" means none."""
        self.min_tier.choices = [SelectChoice("", _l("Any level"))] + [
            SelectChoice(str(i), label) for i, label in tiers]
        self.segment.choices = [SelectChoice("", _l("Every member"))] + [
            SelectChoice(str(i), label) for i, label in segments]
        for row in self.prizes:
            row.reward.choices = [SelectChoice("", _l("None"))] + [
                SelectChoice(str(i), label) for i, label in rewards]

    def validate_closes_on(self, field):
        if field.data and self.opens_on.data and field.data < self.opens_on.data:
            raise ValidationError(_l("The last day cannot be before the first day."))

    def validate_prizes(self, field):
        rows = [row.form for row in field if not row.form.empty]
        if not rows:
            raise ValidationError(str(_l("Give at least one prize.")))
        if not all([row.check() for row in rows]):  # noqa: C419  every row shows its errors
            raise ValidationError(str(_l("Check the prizes marked below.")))
        if sum(row.ppm for row in rows) > service.ODDS_SCALE:
            raise ValidationError(str(_l("The odds of all prizes add up to more than 100%.")))

    def spec(self, tz: str) -> GameSpec:
        """The game the (valid) form describes; the last day is inclusive."""
        return GameSpec(
            name_fa=self.name_fa.data, name_en=self.name_en.data,
            description_fa=self.description_fa.data, description_en=self.description_en.data,
            style=self.style.data, cost_points=self.cost_points.data, daily_plays=self.daily_plays.data,
            opens_at=day_start(self.opens_on.data, tz),
            closes_at=day_start(self.closes_on.data + timedelta(days=1), tz),
            min_tier_id=int(self.min_tier.data) if self.min_tier.data else None,
            segment_id=int(self.segment.data) if self.segment.data else None,
            points_budget=self.points_budget.data,
            prizes=tuple(row.form.spec() for row in self.prizes if not row.form.empty),
        )


def form_data(game, prizes, tz: str, locale: str) -> dict:
    """The form's fields for a saved game."""
    return {
        "name_fa": game.name_fa, "name_en": game.name_en,
        "description_fa": game.description_fa or "", "description_en": game.description_en or "",
        "style": game.style, "cost_points": game.cost_points, "daily_plays": game.daily_plays,
        "opens_on": day_text(local_day(game.opens_at, tz), locale),
        "closes_on": day_text(local_day(game.closes_at - timedelta(microseconds=1), tz), locale),
        "min_tier": str(game.min_tier_id or ""), "segment": str(game.segment_id or ""),
        "points_budget": game.points_budget,
        "prizes": [{"name_fa": p.name_fa, "name_en": p.name_en, "kind": p.kind,
                    "value": p.value if p.kind != "reward" else None, "reward": str(p.reward_id or ""),
                    "odds": service.odds_text(p.odds_ppm), "quantity": p.quantity} for p in prizes],
    }
