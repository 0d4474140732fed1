"""The challenge form: texts per locale, the goal, the period in club-local days
(Jalali or Gregorian), who may join, and the deal."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from webapp.forms.days import ENTER_DAY, DayField, day_start, day_text, local_day
from webapp.forms.fields import Between, DecimalBetween, LocalDecimalField, LocalIntegerField, strip
from webapp.services.offers import challenges as service

METRIC_LABELS = {
    "purchase_count": _l("Number of purchases"),
    "spend": _l("Spend (money, net of refunds)"),
    "categories": _l("Different categories bought"),
}
STATUS_LABELS = {"draft": _l("Draft"), "active": _l("Active"), "ended": _l("Ended")}

BP = Decimal(service.BP)


def category_list(text: str | None) -> tuple[str, ...]:
    """Categories one per line or separated by commas (Latin or Persian)."""
    parts = re.split(r"[\n,،]", text or "")
    return tuple(p.strip() for p in parts if p.strip())


class ChallengeForm(FlaskForm):
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
    metric = SelectField(_l("Goal"), default="purchase_count",
                         choices=[SelectChoice(k, v) for k, v in METRIC_LABELS.items()])
    goal = LocalIntegerField(_l("Target"), validators=[
        InputRequired(_l("Enter the target.")),
        Between(1, service.MAX_GOAL, message=_l("A positive whole number."))],
        render_kw={"inputmode": "numeric", "dir": "ltr", "autocomplete": "off"})
    categories = TextAreaField(_l("Only these categories (optional)"), filters=[strip],
                               validators=[Optional(), Length(max=3000)],
                               render_kw={"dir": "auto", "rows": 2})
    starts_on = DayField(_l("First day"), validators=[InputRequired(ENTER_DAY)],
                         render_kw={"dir": "ltr", "inputmode": "numeric", "autocomplete": "off",
                                    "placeholder": "1405-10-01"})
    ends_on = DayField(_l("Last day"), validators=[InputRequired(ENTER_DAY)],
                       render_kw={"dir": "ltr", "inputmode": "numeric", "autocomplete": "off",
                                  "placeholder": "1405-10-30"})
    min_tier = SelectField(_l("Minimum level"), choices=[], validate_choice=True)
    segment = SelectField(_l("Segment"), choices=[], validate_choice=True)
    perk_multiplier = LocalDecimalField(_l("Earn multiplier while enrolled (optional)"), places=2, validators=[
        Optional(), DecimalBetween(Decimal("1.01"), Decimal(10), _l("Above 1 and at most 10, for example 1.5."))],
        render_kw={"inputmode": "decimal", "dir": "ltr", "autocomplete": "off", "placeholder": "1.5"})
    reward_points = LocalIntegerField(_l("Points on completion (optional)"), validators=[
        Optional(), Between(1, service.MAX_REWARD_POINTS, message=_l("Between 1 and 10,000,000."))],
        render_kw={"inputmode": "numeric", "dir": "ltr", "autocomplete": "off"})
    reward = SelectField(_l("Reward from the catalog on completion"), choices=[], validate_choice=True)

    def set_choices(self, tiers, segments, rewards) -> None:
        """Choices from the database: (id, label) pairs; "" means none."""
        self.min_tier.choices = [SelectChoice("", _l("Any level"))] + [
            SelectChoice(str(i), label) for i, label in tiers]
        self.segment.choices = [SelectChoice("", _l("Every member"))] + [
            SelectChoice(str(i), label) for i, label in segments]
        self.reward.choices = [SelectChoice("", _l("None"))] + [
            SelectChoice(str(i), label) for i, label in rewards]

    def validate_ends_on(self, field):
        if field.data and self.starts_on.data and field.data < self.starts_on.data:
            raise ValidationError(_l("The last day cannot be before the first day."))

    def validate_categories(self, field):
        listed = category_list(field.data)
        if listed and self.metric.data != "categories":
            raise ValidationError(_l("Categories are only for the “different categories” goal."))
        if len(listed) > service.MAX_CATEGORIES:
            raise ValidationError(_l("At most %(n)d categories.", n=service.MAX_CATEGORIES))
        if listed and self.goal.data and self.goal.data > len({service.normalise_category(c) for c in listed}):
            raise ValidationError(_l("The target is more categories than the list has."))

    def validate_reward(self, field):
        if not (field.data or self.reward_points.data or self.perk_multiplier.data):
            raise ValidationError(_l("Give the deal: an earn multiplier, points or a reward (or more)."))

    def spec(self, tz: str) -> service.ChallengeSpec:
        """The challenge the (valid) form describes; the last day is inclusive."""
        perk = self.perk_multiplier.data
        return service.ChallengeSpec(
            name_fa=self.name_fa.data, name_en=self.name_en.data,
            description_fa=self.description_fa.data, description_en=self.description_en.data,
            metric=self.metric.data, goal=self.goal.data,
            categories=category_list(self.categories.data) or None,
            starts_at=day_start(self.starts_on.data, tz),
            ends_at=day_start(self.ends_on.data + timedelta(days=1), tz),
            min_tier_id=int(self.min_tier.data) if self.min_tier.data else None,
            segment_id=int(self.segment.data) if self.segment.data else None,
            perk_multiplier_bp=int(perk * BP) if perk else None,
            reward_points=self.reward_points.data,
            reward_id=int(self.reward.data) if self.reward.data else None,
        )


def form_data(challenge, tz: str, locale: str) -> dict:
    """The form's fields for a saved challenge."""
    perk = challenge.perk_multiplier_bp
    return {
        "name_fa": challenge.name_fa, "name_en": challenge.name_en,
        "description_fa": challenge.description_fa or "", "description_en": challenge.description_en or "",
        "metric": challenge.metric, "goal": challenge.goal,
        "categories": "\n".join(challenge.categories or ()),
        "starts_on": day_text(local_day(challenge.starts_at, tz), locale),
        "ends_on": day_text(local_day(challenge.ends_at - timedelta(microseconds=1), tz), locale),
        "min_tier": str(challenge.min_tier_id or ""), "segment": str(challenge.segment_id or ""),
        "perk_multiplier": Decimal(perk) / BP if perk else None,
        "reward_points": challenge.reward_points, "reward": str(challenge.reward_id or ""),
    }
