"""Finding members and changing their balances (with a reason), and the words
for their statuses and ledger entries."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from webapp.forms.fields import Between, LocalIntegerField, new_form_token, strip
from webapp.services.ledger.adjustments import MAX_CREDIT, MAX_POINTS, MAX_REASON, MIN_REASON


class SearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search changes nothing

    q = StringField(_l("Search"), filters=[strip], validators=[Optional(), Length(max=100)])


REASON = [
    DataRequired(_l("A reason is required.")),
    Length(min=MIN_REASON, max=MAX_REASON,
           message=_l("Give a reason of %(min)d to %(max)d characters.")),
]


class AdjustPointsForm(FlaskForm):
    amount = LocalIntegerField(
        _l("Points (+ to add, - to take away)"),
        validators=[InputRequired(_l("Enter the number of points.")),
                    Between(-MAX_POINTS, MAX_POINTS, zero=False,
                            message=_l("Enter a non-zero number of points up to 10,000,000."))],
        render_kw={"inputmode": "text", "autocomplete": "off", "dir": "ltr"},
    )
    reason = StringField(_l("Reason"), filters=[strip], validators=REASON,
                         render_kw={"autocomplete": "off", "maxlength": MAX_REASON})
    # one-time token: the ledger's idempotency key, so a double click posts once
    token = HiddenField(default=new_form_token)


class GrantCreditForm(FlaskForm):
    amount = LocalIntegerField(
        _l("Store credit (smallest money unit)"),
        validators=[InputRequired(_l("Enter the amount of credit.")),
                    Between(1, MAX_CREDIT, message=_l("Enter a positive amount."))],
        render_kw={"inputmode": "numeric", "autocomplete": "off", "dir": "ltr"},
    )
    reason = StringField(_l("Reason"), filters=[strip], validators=REASON,
                         render_kw={"autocomplete": "off", "maxlength": MAX_REASON})
    token = HiddenField(default=new_form_token)


MEMBER_STATUSES = {
    "active": _l("active"),
    "suspended": _l("suspended"),
    "closed": _l("closed"),
}

LEDGER_KINDS = {
    "earn": _l("Earned"),
    "spend": _l("Spent"),
    "refund": _l("Refund"),
    "reversal": _l("Reversed (refund)"),
    "expire": _l("Expired"),
    "adjust": _l("Adjustment"),
    "grant": _l("Credit grant"),
    "convert": _l("Conversion"),
}
