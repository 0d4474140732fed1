"""/me/wallet: members turn points into store credit.

Type an amount → a preview (htmx swaps it in as you type; without JavaScript
the form posts to the preview step) → confirm. The confirm form carries a
one-time token that becomes the ledger key, so a double click converts once."""

from __future__ import annotations

import re
import secrets

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from jinja2_fragments.flask import render_block
from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, InputRequired, NumberRange

from webapp.auth import current_member, member_required
from webapp.club import current_club
from webapp.extensions import db
from webapp.htmx import is_htmx
from webapp.i18n import ascii_digits, format_money, format_points
from webapp.member import bp
from webapp.member.messages import add_domain_error
from webapp.models import utcnow
from webapp.services.ledger import wallet
from webapp.transaction import commits, refusal

_WHOLE = re.compile(r"\d{1,10}")
# Latin, Persian and Arabic thousands separators and spaces people type or paste
_SEPARATORS = str.maketrans({",": "", "\u066c": "", "\u060c": "", " ": "", "\u00a0": ""})
ENTER_POINTS = _l("Enter a whole number of points, for example 500.")


class PointsField(StringField):
    """A whole number of points, typed with Latin, Persian or Arabic digits."""

    def process_formdata(self, valuelist):
        self.data = None
        text = ascii_digits(valuelist[0] if valuelist else "").translate(_SEPARATORS).strip()
        if not text:
            return
        if not _WHOLE.fullmatch(text):
            raise ValueError(ENTER_POINTS)
        self.data = int(text)

    def _value(self):
        return self.raw_data[0] if self.raw_data else ("" if self.data is None else str(self.data))


class PreviewForm(FlaskForm):
    points = PointsField(
        _l("Points to convert"),
        validators=[InputRequired(ENTER_POINTS), NumberRange(1, wallet.MAX_POINTS, ENTER_POINTS)],
        render_kw={"inputmode": "numeric", "autocomplete": "off", "dir": "ltr"},
    )


class ConvertForm(PreviewForm):
    token = HiddenField(validators=[DataRequired(_l("This form has expired. Please try again."))])

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        self.form_errors.extend(self.token.errors)  # a hidden field: say it above the form
        return ok


def _wallet_page(form, points: int | None = None, *, status: int = 200, live: bool = False):
    state = wallet.wallet_state(db.session, current_member().id, now=utcnow(), tz=current_club().timezone,
                                points=points)
    # a fresh one-time token for each confirm form shown
    context = {"state": state, "form": form, "token": secrets.token_urlsafe(18), "live": live}
    if live:
        return render_block("member/wallet.html", "preview", **context)
    return render_template("member/wallet.html", **context), status


@bp.get("/me/wallet")
@member_required
def wallet_page():
    return _wallet_page(PreviewForm(formdata=None))


@bp.route("/me/wallet/preview", methods=["GET", "POST"])
@member_required
def wallet_preview():
    """htmx asks with GET as the member types (nothing changes, so no CSRF);
    without JavaScript the form posts here and gets the whole page back."""
    if request.method == "GET":
        form = PreviewForm(request.args, meta={"csrf": False})
    else:
        form = PreviewForm()
    ok = form.validate()
    live = is_htmx() and request.method == "GET"
    return _wallet_page(form, _points(form), live=live, status=200 if ok else 422)


@bp.post("/me/wallet/convert")
@member_required
@commits
def wallet_convert():
    form = ConvertForm()
    if form.validate_on_submit():
        # a ConversionRefused shows on the page itself, for the amount asked
        with refusal(form, show=lambda f, exc: None if isinstance(exc, wallet.ConversionRefused)
                     else add_domain_error(f, exc)):
            done = wallet.convert_points(db.session, member_id=current_member().id, points=form.points.data,
                                         key=form.token.data, now=utcnow(), tz=current_club().timezone)
            flash(_converted_message(done), "info" if done.replayed else "success")
            return redirect(url_for(".wallet_page"))
    return _wallet_page(form, _points(form), status=422)


def _points(form) -> int | None:
    """The amount to preview: only one that passed the field's checks."""
    return form.points.data if not form.points.errors else None


def _converted_message(done: wallet.Conversion) -> str:
    if done.replayed:
        return _("This conversion was already done; it happened only once.")
    return _("Done: %(points)s points became %(credit)s of store credit.",
             points=format_points(done.points), credit=format_money(done.credit))
