"""Forms of the rewards catalog editor."""

from __future__ import annotations

from datetime import UTC, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from webapp.forms.days import DayField
from webapp.forms.fields import Between, DecimalBetween, LocalDecimalField, LocalIntegerField, strip
from webapp.services.offers import rewards

KIND_LABELS = {
    "coupon_percent": _l("Percent discount coupon"),
    "coupon_amount": _l("Amount discount coupon"),
    "free_product": _l("Free product"),
    "credit": _l("Store credit"),
    "raffle_tickets": _l("Raffle tickets"),
    "partner_voucher": _l("Partner voucher (uploaded codes)"),
}
STATUS_LABELS = {"draft": _l("Draft"), "active": _l("Active"), "archived": _l("Archived")}
COUPON_STATUS_LABELS = {"issued": _l("Issued"), "used": _l("Used"), "cancelled": _l("Cancelled"),
                        "expired": _l("Expired")}
NUMBER = {"inputmode": "numeric", "autocomplete": "off", "dir": "ltr"}
MAX_VALUE = 10**15


def _optional_int(low, high, message):
    return [Optional(), Between(low, high, message=message)]


class RewardForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=[SelectChoice(k, v) for k, v in KIND_LABELS.items()])
    name_fa = StringField(_l("Name (Persian)"), filters=[strip],
                          validators=[DataRequired(_l("Give the Persian name.")), Length(max=120)])
    name_en = StringField(_l("Name (English)"), filters=[strip],
                          validators=[DataRequired(_l("Give the English name.")), Length(max=120)])
    description_fa = TextAreaField(_l("Description (Persian)"), filters=[strip], validators=[Length(max=2000)])
    description_en = TextAreaField(_l("Description (English)"), filters=[strip], validators=[Length(max=2000)])
    cost_points = LocalIntegerField(_l("Cost in points"), render_kw=NUMBER, validators=[
        InputRequired(_l("Enter the cost in points.")),
        Between(0, rewards.MAX_COST, message=_l("Between 0 and 100,000,000."))])
    percent = LocalDecimalField(_l("Discount (percent)"), places=2, render_kw=NUMBER, validators=[
        Optional(), DecimalBetween(Decimal("0.01"), Decimal(100), _l("Between 0.01 and 100."))])
    value = LocalIntegerField(_l("Amount or tickets"), render_kw=NUMBER,
                              validators=_optional_int(1, MAX_VALUE, _l("A positive whole number.")))
    product_sku = StringField(_l("Product SKU"), filters=[strip], validators=[Length(max=64)],
                              render_kw={"dir": "ltr", "autocomplete": "off"})
    stock = LocalIntegerField(_l("Stock (empty: unlimited)"), render_kw=NUMBER,
                              validators=_optional_int(0, MAX_VALUE, _l("Zero or more.")))
    per_member_limit = LocalIntegerField(_l("Limit per member (empty: none)"), render_kw=NUMBER,
                                         validators=_optional_int(1, 10_000, _l("Between 1 and 10,000.")))
    min_tier = SelectField(_l("Lowest tier"), choices=[], validate_choice=True)
    segment = SelectField(_l("Only for segment"), choices=[], validate_choice=True)
    starts_on = DayField(_l("From (date, empty: now)"), render_kw={"dir": "ltr", "placeholder": "1405-10-01"})
    ends_on = DayField(_l("Until (date, empty: no end)"), render_kw={"dir": "ltr", "placeholder": "1405-12-29"})
    coupon_valid_days = LocalIntegerField(_l("Coupons valid for (days, empty: until used)"), render_kw=NUMBER,
                                          validators=_optional_int(1, 3650, _l("Between 1 and 3650 days.")))
    image = FileField(_l("Picture (PNG, JPEG or WebP, up to 1 MB)"))

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        # Optional() ends a field's own chain, so the kind's required fields are checked here
        kind = self.kind.data
        if kind == "coupon_percent" and self.percent.data is None and not self.percent.errors:
            self.percent.errors = [*self.percent.errors, _l("Enter the discount percent.")]
            ok = False
        if kind in ("coupon_amount", "credit", "raffle_tickets") and self.value.data is None \
                and not self.value.errors:
            self.value.errors = [*self.value.errors,
                                 _l("Enter the amount (smallest money unit) or the number of tickets.")]
            ok = False
        return ok

    def validate_product_sku(self, field):
        if self.kind.data == "free_product" and not field.data:
            raise ValidationError(_l("A free product needs its SKU."))

    def validate_ends_on(self, field):
        if field.data and self.starts_on.data and field.data < self.starts_on.data:
            raise ValidationError(_l("The end must not be before the start."))

    def reward_data(self, *, status: str, image: str | None, tz: str) -> rewards.RewardData:
        kind = self.kind.data
        if kind == "coupon_percent":
            value = int(self.percent.data * 100)
        elif kind in ("coupon_amount", "credit", "raffle_tickets"):
            value = self.value.data
        else:
            value = 0
        zone = ZoneInfo(tz)

        def start_of(day):
            return datetime.combine(day, time.min, zone).astimezone(UTC) if day else None

        ends = self.ends_on.data
        # "until 1405-12-29" includes that whole local day
        ends_at = start_of(ends.fromordinal(ends.toordinal() + 1)) if ends else None
        return rewards.RewardData(
            kind=kind, name_fa=self.name_fa.data, name_en=self.name_en.data, cost_points=self.cost_points.data,
            description_fa=self.description_fa.data or None, description_en=self.description_en.data or None,
            value=value, product_sku=(self.product_sku.data or None) if kind == "free_product" else None,
            stock=self.stock.data, per_member_limit=self.per_member_limit.data,
            min_tier_id=int(self.min_tier.data) if self.min_tier.data else None,
            segment_id=int(self.segment.data) if self.segment.data else None,
            starts_at=start_of(self.starts_on.data), ends_at=ends_at,
            coupon_valid_days=self.coupon_valid_days.data, image=image, status=status,
        )


class VoucherCodesForm(FlaskForm):
    codes = TextAreaField(_l("Codes, one per line"), render_kw={"dir": "ltr", "rows": 6})
    file = FileField(_l("…or a CSV file (codes in the first column)"))


class CancelCouponForm(FlaskForm):
    reason = StringField(_l("Reason"), filters=[strip], validators=[Length(max=300)])
