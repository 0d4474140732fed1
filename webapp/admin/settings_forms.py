"""The owner's program settings: the base earn rule and the wallet conversion."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms.validators import InputRequired, Optional

from webapp.forms.fields import Between, LocalIntegerField


class EarnSettingsForm(FlaskForm):
    earn_points = LocalIntegerField(
        _l("Points per step"),
        validators=[InputRequired(_l("Enter the points per step.")),
                    Between(0, 1_000_000, message=_l("Between 0 and 1,000,000."))],
        render_kw={"inputmode": "numeric", "dir": "ltr"},
    )
    earn_per_amount = LocalIntegerField(
        _l("Step (purchase amount in the smallest money unit)"),
        validators=[InputRequired(_l("Enter the purchase step.")),
                    Between(1, 10**12, message=_l("At least 1."))],
        render_kw={"inputmode": "numeric", "dir": "ltr"},
    )
    points_expiry_days = LocalIntegerField(
        _l("Points expire after (days; 0 = never)"),
        validators=[InputRequired(_l("Enter the expiry in days.")),
                    Between(0, 3650, message=_l("Between 0 (never) and 3650 days."))],
        render_kw={"inputmode": "numeric", "dir": "ltr"},
    )
    earn_enabled = BooleanField(_l("Purchases earn points"))
    example_amount = LocalIntegerField(
        _l("Example purchase"),
        validators=[Optional(), Between(1, 10**12, message=_l("At least 1."))],
        render_kw={"inputmode": "numeric", "dir": "ltr"},
    )


class ExampleForm(EarnSettingsForm):
    """The same fields read from a GET for the live example."""

    class Meta:
        csrf = False


class WalletSettingsForm(FlaskForm):
    enabled = BooleanField(_l("Members may convert points to store credit"))
    points_per_step = LocalIntegerField(_l("Points per step"), validators=[
        InputRequired(_l("Enter the points per step.")),
        Between(1, 10**9, message=_l("Between 1 and 1,000,000,000."))],
        render_kw={"inputmode": "numeric", "dir": "ltr"})
    credit_per_step = LocalIntegerField(_l("Store credit per step (smallest money unit)"), validators=[
        InputRequired(_l("Enter the credit per step.")),
        Between(1, 10**9, message=_l("Between 1 and 1,000,000,000."))],
        render_kw={"inputmode": "numeric", "dir": "ltr"})
    min_points = LocalIntegerField(_l("Minimum points per conversion"), validators=[
        InputRequired(_l("Enter the minimum.")),
        Between(1, 10**9, message=_l("Between 1 and 1,000,000,000."))],
        render_kw={"inputmode": "numeric", "dir": "ltr"})
    daily_cap_points = LocalIntegerField(_l("Daily cap per member (points; 0 = no cap)"), validators=[
        InputRequired(_l("Enter the daily cap (0 for none).")),
        Between(0, 10**9, message=_l("Zero or more."))],
        render_kw={"inputmode": "numeric", "dir": "ltr"})
    example_points = LocalIntegerField(_l("Example: points converted"), validators=[
        Optional(), Between(1, 10**9, message=_l("Between 1 and 1,000,000,000."))],
        render_kw={"inputmode": "numeric", "dir": "ltr"})


class WalletExampleForm(WalletSettingsForm):
    """The same fields read from a GET for the live example."""

    class Meta:
        csrf = False
