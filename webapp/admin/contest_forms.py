"""Staff forms for contests: the contest (texts, schedule in club-local days
and times, Jalali or Gregorian; entry cost, participation points, prizes by
rank range, and the kind's own fields: `ContestForm.for_kind` adds the
"settings" form its registry entry names), a quiz question, a prediction's result."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time
from functools import cache
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.utils import import_string
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
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from webapp.forms.days import ENTER_DAY, DayField, day_text
from webapp.forms.fields import Between, LocalIntegerField, strip
from webapp.i18n import ascii_digits
from webapp.services.play import contests as service
from webapp.services.play import registry

PRIZE_ROWS = 4
STATUS_LABELS = {"draft": _l("Draft"), "published": _l("Published"), "finalised": _l("Finalised")}
PRIZE_KIND_LABELS = {"": _l("No prize"), "points": _l("Points"), "credit": _l("Store credit"),
                     "reward": _l("A catalog reward")}
NUMBER = {"inputmode": "numeric", "dir": "ltr", "autocomplete": "off"}
FA = {"dir": "rtl", "lang": "fa"}
EN = {"dir": "ltr", "lang": "en"}


def parse_time(text: str) -> time:
    match = re.fullmatch(r"(\d{1,2})[:٫.](\d{2})", ascii_digits(text or "").strip())
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise ValueError(text)
    return time(int(match[1]), int(match[2]))


class TimeField(StringField):
    def process_formdata(self, valuelist):
        self.data = None
        text = (valuelist[0] if valuelist else "").strip()
        if text:
            try:
                self.data = parse_time(text)
            except ValueError as exc:
                raise ValueError(_l("Enter a time as hours:minutes, for example 18:30.")) from exc

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return self.data.strftime("%H:%M") if isinstance(self.data, time) else (self.data or "")


class PrizeForm(Form):
    rank_from = LocalIntegerField(_l("From rank"), validators=[Optional(), Between(1, service.MAX_PRIZE_RANK)],
                                  render_kw=NUMBER)
    rank_to = LocalIntegerField(_l("To rank"), validators=[Optional(), Between(1, service.MAX_PRIZE_RANK)],
                                render_kw=NUMBER)
    kind = SelectField(_l("Prize"), default="", choices=[SelectChoice(k, v) for k, v in PRIZE_KIND_LABELS.items()])
    amount = LocalIntegerField(_l("Amount (points or smallest money unit)"),
                               validators=[Optional(), Between(1, service.MAX_POINTS)], render_kw=NUMBER)
    reward = SelectField(_l("Reward"), choices=[], validate_choice=False)


class ContestForm(FlaskForm):
    name_fa = StringField(_l("Name in Persian"), filters=[strip], validators=[
        DataRequired(_l("Give the Persian name.")), Length(max=service.MAX_NAME)], render_kw=FA)
    name_en = StringField(_l("Name in English"), filters=[strip], validators=[
        DataRequired(_l("Give the English name.")), Length(max=service.MAX_NAME)], render_kw=EN)
    description_fa = TextAreaField(_l("Description in Persian"), filters=[strip],
                                   validators=[Optional(), Length(max=1000)], render_kw={**FA, "rows": 2})
    description_en = TextAreaField(_l("Description in English"), filters=[strip],
                                   validators=[Optional(), Length(max=1000)], render_kw={**EN, "rows": 2})
    opens_on = DayField(_l("Opens on"), validators=[InputRequired(ENTER_DAY)],
                        render_kw={**NUMBER, "placeholder": "1405-10-01"})
    opens_time = TimeField(_l("at"), validators=[InputRequired(_l("Enter a time."))],
                           render_kw={**NUMBER, "placeholder": "18:00"})
    closes_on = DayField(_l("Closes on"), validators=[InputRequired(ENTER_DAY)],
                         render_kw={**NUMBER, "placeholder": "1405-10-01"})
    closes_time = TimeField(_l("at"), validators=[InputRequired(_l("Enter a time."))],
                            render_kw={**NUMBER, "placeholder": "20:00"})
    entry_cost = LocalIntegerField(_l("Entry cost in points (0: free)"), default=0, validators=[
        InputRequired(_l("Enter the entry cost (0 for free).")), Between(0, service.MAX_POINTS)], render_kw=NUMBER)
    participation_points = LocalIntegerField(_l("Points for everyone who plays"), default=0, validators=[
        InputRequired(_l("Enter the points (0 for none).")), Between(0, service.MAX_POINTS)], render_kw=NUMBER)
    prizes = FieldList(FormField(PrizeForm), min_entries=PRIZE_ROWS, max_entries=PRIZE_ROWS)

    def set_rewards(self, rewards) -> None:
        for prize in self.prizes:
            prize.reward.choices = [SelectChoice("", _l("None"))] + [
                SelectChoice(str(i), label) for i, label in rewards]

    def validate_closes_on(self, field):
        if field.data and self.opens_on.data and field.data < self.opens_on.data:
            raise ValidationError(_l("The close cannot be before the opening."))

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        problem = None
        for row in self.prizes:
            kind = row.kind.data
            if not kind:
                continue
            if not row.rank_from.data:
                problem = _l("Give the ranks of every prize.")
            elif kind in ("points", "credit") and not row.amount.data:
                problem = _l("Give the amount of every points or credit prize.")
            elif kind == "reward" and not row.reward.data:
                problem = _l("Choose the reward of every reward prize.")
        if problem:
            self.form_errors.append(problem)
        return valid and problem is None

    def spec(self, kind: str, tz: str) -> service.ContestSpec:
        zone = ZoneInfo(tz)
        prizes = tuple(service.Prize(
            rank_from=row.rank_from.data, rank_to=row.rank_to.data or row.rank_from.data, kind=row.kind.data,
            amount=row.amount.data or 0 if row.kind.data != "reward" else 0,
            reward_id=int(row.reward.data) if row.kind.data == "reward" and row.reward.data else None)
            for row in self.prizes if row.kind.data)
        return service.ContestSpec(
            kind=kind, name_fa=self.name_fa.data, name_en=self.name_en.data,
            description_fa=self.description_fa.data, description_en=self.description_en.data,
            opens_at=datetime.combine(self.opens_on.data, self.opens_time.data, zone).astimezone(UTC),
            closes_at=datetime.combine(self.closes_on.data, self.closes_time.data, zone).astimezone(UTC),
            entry_cost=self.entry_cost.data, participation_points=self.participation_points.data,
            prizes=prizes, settings=self.settings())

    def settings(self) -> dict:
        """The kind's own settings (see `for_kind`); none for a kind without."""
        return {}

    @classmethod
    def settings_data(cls, settings: dict) -> dict:
        return {}

    @classmethod
    def for_kind(cls, kind: str) -> type[ContestForm]:
        """The contest form with the fields of the kind's "settings" form (its
        registry entry names it), if it has one."""
        return _contest_form(kind)


class PredictionSettings(Form):
    """The prediction's own fields (its registry entry's "settings" form),
    mixed into the contest form by `ContestForm.for_kind`."""

    question_fa = StringField(_l("Question in Persian"), filters=[strip], validators=[Length(max=300)],
                              render_kw=FA)
    question_en = StringField(_l("Question in English"), filters=[strip], validators=[Length(max=300)],
                              render_kw=EN)
    question_type = SelectField(_l("Answer"), default="options", choices=[SelectChoice("options", _l("One of some options")),
                                                       SelectChoice("number", _l("Numbers (e.g. a match score)"))])
    options_fa = TextAreaField(_l("Options in Persian, one per line"), filters=[strip], render_kw={**FA, "rows": 3})
    options_en = TextAreaField(_l("Options in English, one per line"), filters=[strip], render_kw={**EN, "rows": 3})
    arity = LocalIntegerField(_l("How many numbers"), default=1, validators=[Optional(), Between(1, 4)],
                              render_kw=NUMBER)
    minimum = LocalIntegerField(_l("Smallest number"), default=0, validators=[Optional(), Between(0, 10**6)],
                                render_kw=NUMBER)
    maximum = LocalIntegerField(_l("Largest number"), validators=[Optional(), Between(0, 10**6)], render_kw=NUMBER)
    mode = SelectField(_l("Scoring"), default="exact", choices=[SelectChoice("exact", _l("Exact only")),
                                               SelectChoice("closest", _l("Exact, and fewer points for the closest"))])
    exact_points = LocalIntegerField(_l("Score for an exact prediction"), default=100,
                                     validators=[Optional(), Between(1, 10**6)], render_kw=NUMBER)
    closest_points = LocalIntegerField(_l("Score for the closest"), default=0,
                                       validators=[Optional(), Between(0, 10**6)], render_kw=NUMBER)

    def settings(self) -> dict:
        base = {"question": self.question_type.data, "question_fa": self.question_fa.data or "",
                "question_en": self.question_en.data or "", "mode": self.mode.data,
                "exact_points": self.exact_points.data or 100, "closest_points": self.closest_points.data or 0}
        if self.question_type.data == "options":
            fa = [line.strip() for line in (self.options_fa.data or "").splitlines() if line.strip()]
            en = [line.strip() for line in (self.options_en.data or "").splitlines() if line.strip()]
            return {**base, "options": [{"fa": f, "en": e} for f, e in zip(fa, en, strict=False)]
                    + [{"fa": f, "en": ""} for f in fa[len(en):]] + [{"fa": "", "en": e} for e in en[len(fa):]]}
        return {**base, "arity": self.arity.data or 1, "minimum": self.minimum.data or 0,
                "maximum": self.maximum.data}

    @classmethod
    def settings_data(cls, s: dict) -> dict:
        return {
            "question_fa": s.get("question_fa", ""), "question_en": s.get("question_en", ""),
            "question_type": s.get("question", "options"),
            "options_fa": "\n".join(o["fa"] for o in s.get("options", [])),
            "options_en": "\n".join(o["en"] for o in s.get("options", [])),
            "arity": s.get("arity", 1), "minimum": s.get("minimum", 0), "maximum": s.get("maximum"),
            "mode": s.get("mode", "exact"), "exact_points": s.get("exact_points", 100),
            "closest_points": s.get("closest_points", 0),
        }


@cache
def _contest_form(kind: str) -> type[ContestForm]:
    name = registry.get_type(kind).forms.get("settings")
    if name is None:
        return ContestForm
    # the kind's form first, so its settings() and settings_data() are the ones used
    return type(f"{kind.title()}ContestForm", (import_string(name), ContestForm), {})


def form_data(contest, tz: str, locale: str) -> dict:
    zone = ZoneInfo(tz)
    opens, closes = contest.opens_at.astimezone(zone), contest.closes_at.astimezone(zone)
    prizes = [{"rank_from": p["from"], "rank_to": p["to"], "kind": p["kind"], "amount": p.get("amount") or None,
               "reward": str(p.get("reward_id") or "")} for p in contest.prizes]
    return {
        "name_fa": contest.name_fa, "name_en": contest.name_en,
        "description_fa": contest.description_fa or "", "description_en": contest.description_en or "",
        "opens_on": day_text(opens.date(), locale), "opens_time": opens.time(),
        "closes_on": day_text(closes.date(), locale), "closes_time": closes.time(),
        "entry_cost": contest.entry_cost, "participation_points": contest.participation_points,
        "prizes": prizes + [{}] * (PRIZE_ROWS - len(prizes)),
        **ContestForm.for_kind(contest.kind).settings_data(contest.settings or {}),
    }


class QuestionForm(FlaskForm):
    text_fa = TextAreaField(_l("Question in Persian"), filters=[strip], validators=[
        DataRequired(_l("Give the question in Persian.")), Length(max=500)], render_kw={**FA, "rows": 2})
    text_en = TextAreaField(_l("Question in English"), filters=[strip], validators=[
        DataRequired(_l("Give the question in English.")), Length(max=500)], render_kw={**EN, "rows": 2})
    options_fa = FieldList(StringField(_l("Option in Persian"), filters=[strip], validators=[Length(max=200)],
                                       render_kw=FA), min_entries=6, max_entries=6)
    options_en = FieldList(StringField(_l("Option in English"), filters=[strip], validators=[Length(max=200)],
                                       render_kw=EN), min_entries=6, max_entries=6)
    correct = SelectField(_l("The correct option"), choices=[SelectChoice(str(i), str(i + 1)) for i in range(6)])
    time_limit = LocalIntegerField(_l("Seconds to answer"), default=20, validators=[
        InputRequired(_l("Enter the seconds.")), Between(3, 120, message=_l("Between 3 and 120 seconds."))],
        render_kw=NUMBER)
    image = FileField(_l("Picture (optional: PNG, JPEG or WebP, up to 1 MB)"))
    remove_image = BooleanField(_l("Remove the picture"))

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        pairs = self.pairs()
        problem = None
        if not 2 <= len(pairs) <= 6:
            problem = _l("Give 2 to 6 options.")
        elif any(not fa or not en for fa, en in pairs):
            problem = _l("Give every option in Persian and in English.")
        elif int(self.correct.data or 0) >= len(pairs):
            problem = _l("The correct option must be one of the options given.")
        if problem:
            self.form_errors.append(problem)
        return valid and problem is None

    def pairs(self) -> list[tuple[str, str]]:
        return [(fa.data or "", en.data or "") for fa, en in zip(self.options_fa, self.options_en, strict=True)
                if fa.data or en.data]

    def spec(self, image: str | None) -> service.QuestionSpec:
        return service.QuestionSpec(text_fa=self.text_fa.data, text_en=self.text_en.data,
                                    options=tuple(self.pairs()), correct_option=int(self.correct.data),
                                    time_limit_ms=self.time_limit.data * 1000, image=image)


def question_data(question) -> dict:
    options = question.options + [{"fa": "", "en": ""}] * (6 - len(question.options))
    return {"text_fa": question.text_fa, "text_en": question.text_en,
            "options_fa": [o["fa"] for o in options], "options_en": [o["en"] for o in options],
            "correct": str(question.correct_option), "time_limit": question.time_limit_ms // 1000}


class ResultForm(FlaskForm):
    values = FieldList(LocalIntegerField(_l("Result"), validators=[InputRequired(_l("Enter the result.")),
                                                                   Between(0, 10**6)], render_kw=NUMBER),
                       min_entries=1, max_entries=4)
