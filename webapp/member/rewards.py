"""Member pages for rewards: the catalog (/rewards), redeeming (a preview,
then a confirm whose one-time token becomes the coupon's request key, so a
double submit issues one coupon), and the member's coupons (/me/coupons)."""

from __future__ import annotations

import secrets

from flask import (
    abort,
    flash,
    redirect,
    render_template,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from jinja2_fragments.flask import render_block
from markupsafe import Markup
from wtforms import HiddenField
from wtforms.validators import DataRequired

from webapp import htmx
from webapp.auth import current_member, member_required
from webapp.extensions import db
from webapp.htmx import wants_fragment
from webapp.i18n import format_money, format_number
from webapp.member import bp
from webapp.member.messages import add_domain_error
from webapp.models import Reward, utcnow
from webapp.qr import qr_svg
from webapp.services.errors import DomainError, NotFound
from webapp.services.offers import rewards
from webapp.transaction import commits, refusal
from webapp.uploads import send_picture

MAX_REWARD_ID = 2**31 - 1
MAX_COUPON_ID = 2**63 - 1
CARD_ITEMS = 2


class RedeemForm(FlaskForm):
    token = HiddenField(validators=[DataRequired(_l("This form has expired. Please try again."))])


def reward_value(kind: str, value: int, product_sku: str | None = None) -> str:
    """What the reward or coupon is worth, in the member's words."""
    if kind == "coupon_percent":
        whole, part = divmod(value, 100)
        number = format_number(whole) if not part else format_number(value / 100)
        return _("%(percent)s%% off", percent=number)
    if kind == "coupon_amount":
        return _("%(amount)s off", amount=format_money(value))
    if kind == "free_product":
        return _("A free product")
    if kind == "credit":
        return _("%(amount)s of store credit", amount=format_money(value))
    if kind == "raffle_tickets":
        return _("%(count)s raffle tickets", count=format_number(value))
    return _("A partner voucher")


KIND_NOTES = {
    "raffle_tickets": _l("Your tickets will count in the club's raffles once raffles open; keep this coupon."),
    "credit": _l("The store credit is added to your wallet at once."),
    "partner_voucher": _l("Use the partner's code below with the partner."),
}
STATUS_LABELS = {
    "issued": _l("Ready to use"), "used": _l("Used"), "cancelled": _l("Cancelled"), "expired": _l("Expired"),
}


@bp.app_context_processor
def _reward_words() -> dict:
    return {"reward_value": reward_value,
            "coupon_status_label": lambda s: STATUS_LABELS.get(s, s), "kind_note": KIND_NOTES.get}


def dashboard_facts(member, now) -> dict:
    """The `facts` the card needs when /me fetches its cards' facts together."""
    return rewards.standing_facts(db.session, member, now)


def dashboard_state(member, now, found: dict | None = None):
    """What the rewards card on /me shows (None: no card): the cheapest rewards
    the member can redeem now, else the ones they are closest to."""
    catalog = rewards.member_catalog(db.session, member, now, found)
    ready = [i for i in catalog.afford if i.redeemable][:CARD_ITEMS]
    near = [i for i in catalog.away if i.blocked is None][:CARD_ITEMS]
    if not ready and not near:
        return None
    return {"ready": ready, "near": near if not ready else [], "balance": catalog.balance}


@bp.get("/rewards", endpoint="rewards")
@member_required
def catalog_page():
    catalog = rewards.member_catalog(db.session, current_member(), utcnow())
    return render_template("member/rewards.html", catalog=catalog)


def _redeem_page(reward_id: int, form, *, status: int = 200):
    """The preview: what the member gets and pays, or why they cannot."""
    if reward_id > MAX_REWARD_ID:
        abort(404)
    refusal = quote = None
    try:
        quote = rewards.quote(db.session, current_member().id, reward_id, utcnow())
    except (rewards.RewardUnavailable, NotFound):
        abort(404)
    except DomainError as exc:
        refusal = _redeem_refusal(exc)
    reward = quote.reward if quote else db.session.get(Reward, reward_id)
    context = {"reward": reward, "quote": quote, "refusal": refusal, "form": form,
               "token": secrets.token_urlsafe(18)}
    if wants_fragment():
        return render_block("member/reward_redeem.html", "preview", **context), status
    return render_template("member/reward_redeem.html", **context), status


@bp.get("/rewards/<int:reward_id>")
@member_required
def reward_redeem_preview(reward_id: int):
    return _redeem_page(reward_id, RedeemForm(formdata=None))


@bp.post("/rewards/<int:reward_id>")
@member_required
@commits
def reward_redeem(reward_id: int):
    form = RedeemForm()
    if reward_id > MAX_REWARD_ID:
        abort(404)
    if form.validate_on_submit():
        with refusal(form, say=_redeem_refusal):
            done = rewards.redeem_reward(db.session, member_id=current_member().id, reward_id=reward_id,
                                         request_key=f"{current_member().id}:{form.token.data}", now=utcnow())
            if done.replayed:
                flash(_("You already redeemed this; you got one coupon."), "info")
            else:
                flash(_("Done! Here is your coupon."), "success")
            response = redirect(url_for(".coupon", coupon_id=done.coupon.id))
            htmx.trigger(response)
            return response
    else:
        form.form_errors.extend(form.token.errors)
    return _redeem_page(reward_id, form, status=422)


def _redeem_refusal(exc: DomainError) -> str:
    """The member's words for why redeeming did not work (messages.DOMAIN_ERRORS)."""
    holder = RedeemForm(formdata=None)
    add_domain_error(holder, exc)
    return str((holder.form_errors or [""])[0])


@bp.get("/me/coupons")
@member_required
def coupons():
    held = rewards.member_coupons(db.session, current_member().id, utcnow())
    return render_template("member/coupons.html", coupons=held)


@bp.get("/me/coupons/<int:coupon_id>")
@member_required
def coupon(coupon_id: int):
    if coupon_id > MAX_COUPON_ID:
        abort(404)
    try:
        found, reward = rewards.member_coupon(db.session, current_member().id, coupon_id)
    except NotFound:
        abort(404)  # someone else's coupon looks exactly like one that does not exist
    status = rewards.effective_status(found, utcnow())
    return render_template("member/coupon.html", coupon=found, reward=reward, status=status,
                           qr=_qr_svg(found.code) if status == "issued" else None)


def _qr_svg(code: str) -> Markup:
    return qr_svg(code, svgclass="coupon-qr-svg")


@bp.get("/rewards/image/<name>")
def reward_image(name: str):
    """Reward pictures are public (the catalog shows them); names are random."""
    return send_picture("rewards", name)
