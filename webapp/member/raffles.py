"""Member pages for raffles: `/raffles` (open raffles and past results),
`/raffles/<id>` (prizes, the commitment, my tickets and odds, the buy form whose
one-time token is the request key, ticket coupons), and the public
verification page `/raffles/<id>/verify` with the canonical entry file
`/raffles/<id>/entries.txt`. A member only ever sees their own entry."""

from __future__ import annotations

import secrets
from decimal import Decimal

from flask import abort, flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from jinja2_fragments.flask import render_block
from wtforms import HiddenField, IntegerField
from wtforms.validators import DataRequired, InputRequired, NumberRange

from webapp import htmx
from webapp.auth import current_member, member_required
from webapp.extensions import db
from webapp.htmx import is_htmx, wants_fragment
from webapp.i18n import format_money, format_number
from webapp.member import bp
from webapp.member.messages import add_domain_error
from webapp.models import Raffle, utcnow
from webapp.services.errors import NotFound
from webapp.services.play import raffles as service
from webapp.services.play import registry
from webapp.transaction import commits, refusal, reread

TEMPLATES = registry.get("raffle").templates  # the kind's registry entry names its pages

MAX_ID = 2**31 - 1
EXPIRED = _l("This form has expired. Please try again.")


class BuyForm(FlaskForm):
    quantity = IntegerField(_l("Tickets"), default=1, validators=[
        InputRequired(_l("How many tickets?")),
        NumberRange(1, service.MAX_BUY, _l("Between 1 and %(max)s tickets.", max=service.MAX_BUY))],
        render_kw={"inputmode": "numeric", "min": 1, "dir": "ltr"})
    token = HiddenField(validators=[DataRequired(EXPIRED)])


class CouponForm(FlaskForm):
    coupon = IntegerField(validators=[InputRequired(EXPIRED), NumberRange(1, 2**63 - 1)])


def raffle_prize_value(prize) -> str | None:
    if prize.kind == "points":
        return _("%(points)s points", points=format_number(prize.amount))
    if prize.kind == "credit":
        return _("%(amount)s of store credit", amount=format_money(prize.amount))
    return None


def percent_of_bp(bp: int) -> str:
    """Basis points as a percent with two decimals, in the member's digits."""
    return _("%(percent)s%%", percent=format_number(Decimal(bp).scaleb(-2).quantize(Decimal("0.01"))))


@bp.app_context_processor
def _raffle_words() -> dict:
    return {"raffle_prize_value": raffle_prize_value, "percent_of_bp": percent_of_bp}


@bp.get("/raffles", endpoint="raffles")
@member_required
def raffles_page():
    open_items, past = service.listing(db.session, current_member().id, utcnow())
    return render_template(TEMPLATES["list"], open_items=open_items, past=past, now=utcnow())


def _item(raffle_id: int) -> service.MemberRaffle:
    if raffle_id > MAX_ID:
        abort(404)
    try:
        service.public_raffle(db.session, raffle_id)
    except NotFound:
        abort(404)
    return service.member_raffles(db.session, current_member().id, [raffle_id])[0]


def _raffle_page(raffle_id: int, form: BuyForm | None = None, coupon_form: CouponForm | None = None, *,
                 status: int = 200, block: str | None = None, notices: list[str] | None = None):
    member, now = current_member(), utcnow()
    item = _item(raffle_id)
    form = form or BuyForm(formdata=None)
    form.token.data = secrets.token_urlsafe(18)  # a fresh one-time token for the next buy
    context = {
        "item": item, "raffle": item.raffle, "form": form, "coupon_form": coupon_form or CouponForm(formdata=None),
        "open": service.is_open(item.raffle, now), "balance": member.points_balance,
        "eligible": service.eligible(db.session, item.raffle, member, now) and member.is_active,
        "coupons": service.ticket_coupons(db.session, member.id, now),
        "notices": notices or [],
        "draw_winners": service.winners(db.session, raffle_id) if item.raffle.status == "drawn" else [],
    }
    if block and wants_fragment():
        return render_block(TEMPLATES["play"], block, **context), status
    return render_template(TEMPLATES["play"], **context), status


@bp.get("/raffles/<int:raffle_id>", endpoint="raffle")
@member_required
def raffle_page(raffle_id: int):
    return _raffle_page(raffle_id)


@bp.post("/raffles/<int:raffle_id>/buy", endpoint="raffle_buy")
@member_required
@commits
def raffle_buy(raffle_id: int):
    form, member = BuyForm(), current_member()
    _item(raffle_id)
    if form.validate_on_submit():
        with refusal(form, show=add_domain_error):
            done = service.buy_tickets(db.session, raffle_id=raffle_id, member_id=member.id,
                                       quantity=form.quantity.data, request_key=f"{member.id}:{form.token.data}",
                                       now=utcnow())
            return _done(raffle_id, done)
    elif form.token.errors or form.csrf_token.errors:
        form.form_errors.append(EXPIRED)
    return _raffle_page(raffle_id, form, status=200 if is_htmx() else 422, block="mine")


@bp.post("/raffles/<int:raffle_id>/coupon", endpoint="raffle_coupon")
@member_required
@commits
def raffle_coupon(raffle_id: int):
    coupon_form, member = CouponForm(), current_member()
    _item(raffle_id)
    if coupon_form.validate_on_submit():
        with refusal(coupon_form, show=add_domain_error):
            done = service.apply_coupon(db.session, raffle_id=raffle_id, member_id=member.id,
                                        coupon_id=coupon_form.coupon.data, now=utcnow())
            return _done(raffle_id, done)
    else:
        coupon_form.form_errors.append(EXPIRED)
    return _raffle_page(raffle_id, coupon_form=coupon_form, status=200 if is_htmx() else 422,
                        block="mine")


def _done(raffle_id: int, done: service.TicketsAdded):
    if done.replayed:
        notices = [_("You already did this; your tickets were added once.")]
    else:
        notices = [_("%(count)s tickets added. Good luck!", count=format_number(done.added))]
    if done.perk_tickets:
        notices.append(_("Your level gave you %(count)s extra tickets.", count=format_number(done.perk_tickets)))
    if is_htmx():  # said inside the swapped part; a flash would wait for the next page
        reread()
        response = make_response(_raffle_page(raffle_id, block="mine", notices=notices)[0])
        htmx.trigger(response)
        return response
    for notice in notices:
        flash(notice, "success")
    return redirect(url_for(".raffle", raffle_id=raffle_id))


# -- public verification -------------------------------------------------------------------


def _public(raffle_id: int) -> Raffle:
    if raffle_id > MAX_ID:
        abort(404)
    try:
        return service.public_raffle(db.session, raffle_id)
    except NotFound:
        abort(404)


def verify_command(raffle: Raffle, winners: int) -> str | None:
    """The exact command line that re-runs the draw (once the seed is revealed)."""
    if raffle.status != "drawn":
        return None
    parts = ["python", "-m", "games.raffle", "verify", f"raffle-{raffle.id}-entries.txt",
             "--seed", raffle.seed.hex()]
    if raffle.public_value_source:
        parts += ["--public-value", _shell_quote(raffle.public_value or "")]
    parts += ["--raffle-id", str(raffle.id), "--winners", str(winners), "--alternates", str(raffle.alternates),
              "--commitment", raffle.commitment]
    return " ".join(parts)


def _shell_quote(text: str) -> str:
    return "'" + text.replace("'", "'\"'\"'") + "'"


@bp.get("/raffles/<int:raffle_id>/verify", endpoint="raffle_verify")
def raffle_verify(raffle_id: int):
    raffle = _public(raffle_id)
    item = service.member_raffles(db.session, None, [raffle_id])[0]
    drawn = service.winners(db.session, raffle_id) if raffle.status == "drawn" else []
    return render_template(TEMPLATES["verify"], raffle=raffle, item=item, drawn=drawn,
                           command=verify_command(raffle, item.winners))


@bp.get("/raffles/<int:raffle_id>/entries.txt", endpoint="raffle_entries")
def raffle_entries(raffle_id: int):
    raffle = _public(raffle_id)
    if raffle.entries_file is None:
        abort(404)  # published at the close
    return raffle.entries_file, 200, {
        "Content-Type": "text/plain; charset=utf-8",
        "Content-Disposition": f'attachment; filename="raffle-{raffle.id}-entries.txt"',
        "X-Content-Type-Options": "nosniff",
    }
