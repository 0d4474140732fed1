"""Staff forms for marketers (affiliates): create (outside the member base, or
promote a member), edit the terms, suspend/reactivate, pay out, and pay a
member-backed marketer in store credit. The commission's share of the purchase
is typed as a percent (up to two decimals) and kept as basis points."""

from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, RadioField, SelectChoice, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from webapp.admin.domain_messages import domain_message
from webapp.forms.fields import (
    Between,
    DecimalBetween,
    LocalDecimalField,
    LocalIntegerField,
    decimal_text,
    new_form_token,
    strip,
)
from webapp.services.referrals import marketers as service
from webapp.services.referrals.marketers import MarketerTerms

STATUS_LABELS = {"active": _l("Active"), "suspended": _l("Suspended")}
ENTRY_KINDS = {"commission": _l("Commission"), "reversal": _l("Reversed (refund)"), "payout": _l("Payout"),
               "adjustment": _l("Adjustment")}
# what the service's refusals say to staff (their own messages are English only)
MESSAGES = {
    "code_taken": _l("This code is already a member's or a marketer's invite code. Choose another."),
    "marketer_email_taken": _l("A marketer with this e-mail already exists."),
    "marketer_email_is_member": _l("This e-mail belongs to a member: choose “Promote a member” instead."),
    "marketer_member_unknown": _l("No member has this e-mail or mobile number."),
    "already_marketer": _l("This member is already a marketer."),
    "marketer_not_member": _l("Only a marketer who is a member can be paid in store credit."),
    "payout_invalid": _l("Enter an amount above zero and a reference."),
    "insufficient_balance": _l("That is more than the marketer's balance: nothing was paid."),
    "invalid_email": _l("This is not a valid e-mail address."),
    "weak_password": _l("The password must be at least 8 characters."),
}
PROBLEMS = {
    "code": _l("4 to 16 letters and digits, without 0, O, 1, I or L (they are misread)."),
    "name": _l("Give a name of up to 80 characters."),
    "commission_amount": _l("Between 0 and 10,000,000,000."),
    "commission_bp": _l("Between 0 and 100 percent."),
    "note": _l("Keep the note under 300 characters."),
}
_NUMBER = {"inputmode": "numeric", "dir": "ltr", "autocomplete": "off"}


def refusal(exc) -> str:
    return str(MESSAGES.get(exc.code) or domain_message(exc))


class TermsForm(FlaskForm):
    name = StringField(_l("Name"), filters=[strip], validators=[
        DataRequired(_l("Give the marketer a name.")), Length(max=service.MAX_NAME)])
    commission_amount = LocalIntegerField(_l("Fixed commission per qualified friend (smallest money unit)"),
                                          default=0, validators=[
        InputRequired(_l("Enter an amount (0 for none).")),
        Between(0, service.MAX_COMMISSION, message=PROBLEMS["commission_amount"])], render_kw=_NUMBER)
    commission_percent = LocalDecimalField(_l("Share of the qualifying purchase (percent)"), places=2,
                                           default=Decimal(0), validators=[
        InputRequired(_l("Enter a percent (0 for none).")),
        DecimalBetween(Decimal(0), Decimal(100), PROBLEMS["commission_bp"])],
        render_kw={"inputmode": "decimal", "dir": "ltr", "autocomplete": "off"})
    note = TextAreaField(_l("Note for staff"), filters=[strip], validators=[
        Optional(), Length(max=service.MAX_NOTE)], render_kw={"rows": 2})

    def terms(self) -> MarketerTerms:
        return MarketerTerms(name=self.name.data, commission_amount=self.commission_amount.data,
                             commission_bp=int(self.commission_percent.data * 100), note=self.note.data or None)

    def fill(self, marketer) -> None:
        self.name.data, self.note.data = marketer.name, marketer.note
        self.commission_amount.data = marketer.commission_amount
        self.commission_percent.data = Decimal(marketer.commission_bp) / 100

    def show_problems(self, exc: service.MarketerInvalid) -> None:
        fields = {"commission_bp": "commission_percent"}
        for key in exc.problems:
            field = getattr(self, fields.get(key, key), None)
            message = str(PROBLEMS.get(key, _l("This value is not valid.")))
            if field is not None:
                field.errors = [*field.errors, message]
            else:
                self.form_errors.append(message)


class NewMarketerForm(TermsForm):
    who = RadioField(_l("Who is it?"), default="outside", choices=[
        SelectChoice("outside", _l("Someone outside the member base (signs in at the partner page)")),
        SelectChoice("member", _l("Promote a member (signs in as the member)"))])
    email = StringField(_l("E-mail (their sign-in)"), filters=[strip], validators=[Length(max=254)],
                        render_kw={"type": "email", "autocomplete": "off", "dir": "ltr"})
    password = PasswordField(_l("Initial password"), validators=[
        Optional(), Length(min=8, max=128, message=_l("Between 8 and 128 characters."))],
        render_kw={"autocomplete": "new-password"})
    login = StringField(_l("The member's e-mail or mobile"), filters=[strip], validators=[Length(max=254)],
                        render_kw={"autocomplete": "off", "dir": "ltr"})
    code = StringField(_l("Code"), filters=[strip], validators=[Optional(), Length(max=service.MAX_CODE)],
                       render_kw={"autocomplete": "off", "dir": "ltr", "autocapitalize": "characters",
                                  "maxlength": service.MAX_CODE})

    def validate_email(self, field):
        if self.who.data == "outside" and not field.data:
            raise ValidationError(_l("Enter their e-mail address."))

    def validate_login(self, field):
        if self.who.data == "member" and not field.data:
            raise ValidationError(_l("Enter the member's e-mail or mobile number."))


class StatusForm(FlaskForm):
    status = HiddenField(validators=[DataRequired()])
    reason = StringField(_l("Reason (optional)"), filters=[strip], validators=[Optional(), Length(max=300)])


class PayoutForm(FlaskForm):
    amount = LocalIntegerField(_l("Amount paid (smallest money unit)"), validators=[
        InputRequired(_l("Enter the amount paid.")),
        Between(1, service.MAX_PAYOUT, message=_l("Enter a positive amount."))], render_kw=_NUMBER)
    reference = StringField(_l("Reference (e.g. the bank transfer number)"), filters=[strip], validators=[
        DataRequired(_l("Enter the payment's reference.")), Length(max=service.MAX_REFERENCE)],
        render_kw={"autocomplete": "off", "dir": "ltr"})
    # one-time token: the entry's idempotency key, so a double click pays once
    token = HiddenField(default=new_form_token)


class CreditForm(FlaskForm):
    amount = LocalIntegerField(_l("Amount to give as store credit (smallest money unit)"), validators=[
        InputRequired(_l("Enter the amount.")),
        Between(1, service.MAX_PAYOUT, message=_l("Enter a positive amount."))], render_kw=_NUMBER)
    token = HiddenField(default=new_form_token)


def percent_text(bp: int) -> str:
    return decimal_text(Decimal(bp) / 100)
