"""Staff pages for rewards (under /admin): the catalog list, create and edit
(with a picture), publish/archive, partner code uploads, and cancelling a
member's coupon (points and stock come back). Every write is audited by the service."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select
from wtforms import SelectChoice

from webapp.admin import bp
from webapp.admin.common import staff_actor
from webapp.admin.reward_forms import (
    COUPON_STATUS_LABELS,
    KIND_LABELS,
    STATUS_LABELS,
    CancelCouponForm,
    RewardForm,
    VoucherCodesForm,
)
from webapp.admin.uploads import discard_image, has_upload, store_image
from webapp.auth import staff_required
from webapp.club import current_club
from webapp.extensions import db
from webapp.forms.confirm import ConfirmForm
from webapp.i18n import current_locale
from webapp.models import Coupon, Member, Reward, Segment, VoucherCode, utcnow
from webapp.services import tiers
from webapp.services.errors import DomainError, NotFound
from webapp.services.offers import rewards

MAX_ID = 2**31 - 1
MAX_CODES_FILE = 1024 * 1024
FIELD_OF_PROBLEM = {"ends_at": "ends_on", "starts_at": "starts_on"}  # service problem → form field


@bp.context_processor
def _reward_labels():
    return {"reward_kind_labels": KIND_LABELS, "reward_status_labels": STATUS_LABELS,
            "coupon_status_labels": COUPON_STATUS_LABELS, "coupon_status": _coupon_status}


def _coupon_status(coupon: Coupon) -> str:
    """What staff see: an issued coupon past its date is already expired (as the till and the member see it)."""
    return rewards.effective_status(coupon, utcnow())


def _choices(form: RewardForm) -> None:
    locale = current_locale()
    program = tiers.load_program(db.session)
    form.min_tier.choices = [SelectChoice("", _("Every tier"))] + [
        SelectChoice(str(lv.id), lv.name(locale)) for lv in (program.levels if program else ()) if lv.id]
    form.segment.choices = [SelectChoice("", _("Every member"))] + [
        SelectChoice(str(sid), name) for sid, name in db.session.execute(
            select(Segment.id, Segment.name).where(Segment.archived_at.is_(None)).order_by(Segment.name))]


def _reward(reward_id: int) -> Reward:
    reward = db.session.get(Reward, reward_id) if reward_id <= MAX_ID else None
    if reward is None:
        abort(404)
    return reward


@bp.get("/rewards", endpoint="rewards")
@staff_required("offers")
def rewards_list():
    status = request.args.get("status") or None
    stmt = select(Reward).order_by(Reward.status, Reward.cost_points, Reward.id)
    if status in STATUS_LABELS:
        stmt = stmt.where(Reward.status == status)
    found = None
    code = (request.args.get("code") or "").strip()
    if code:
        try:
            found = rewards.find_coupon(db.session, code)
        except NotFound:
            flash(_("No coupon has this code."), "error")
    return render_template("admin/rewards.html", rewards=list(db.session.scalars(stmt)), status=status,
                           found=found, code=code)


def _editor(form, reward=None, *, status: int = 200):
    context = {"form": form, "reward": reward, "codes_form": VoucherCodesForm(formdata=None),
               "confirm": ConfirmForm(), "cancel_form": CancelCouponForm(formdata=None)}
    if reward is not None:
        context["coupons"] = db.session.execute(
            select(Coupon, Member.display_name, Member.email).join(Member, Member.id == Coupon.member_id)
            .where(Coupon.reward_id == reward.id).order_by(Coupon.id.desc()).limit(50)).all()
        context["free_codes"] = db.session.scalar(select(func.count()).select_from(VoucherCode).where(
            VoucherCode.reward_id == reward.id, VoucherCode.coupon_id.is_(None)))
    return render_template("admin/reward_edit.html", **context), status


@bp.route("/rewards/new", methods=["GET", "POST"])
@staff_required("offers")
def reward_new():
    form = RewardForm()
    _choices(form)
    if form.validate_on_submit():
        return _save(form, None)
    return _editor(form, status=422 if request.method == "POST" else 200)


@bp.route("/rewards/<int:reward_id>", methods=["GET", "POST"])
@staff_required("offers")
def reward_edit(reward_id: int):
    reward = _reward(reward_id)
    form = RewardForm(obj=None) if request.method == "POST" else RewardForm(formdata=None, data=_form_data(reward))
    _choices(form)
    if request.method == "POST" and form.validate_on_submit():
        return _save(form, reward)
    return _editor(form, reward, status=422 if request.method == "POST" else 200)


def _form_data(reward: Reward) -> dict:
    zone = current_club().zone
    # ends_at is the start of the day after the last one
    ends = (reward.ends_at.astimezone(zone) - timedelta(days=1)).date() if reward.ends_at else None
    return {
        "kind": reward.kind, "name_fa": reward.name_fa, "name_en": reward.name_en,
        "description_fa": reward.description_fa, "description_en": reward.description_en,
        "cost_points": reward.cost_points, "stock": reward.stock, "per_member_limit": reward.per_member_limit,
        "percent": Decimal(reward.value) / 100 if reward.kind == "coupon_percent" else None,
        "value": reward.value if reward.kind in ("coupon_amount", "credit", "raffle_tickets") else None,
        "product_sku": reward.product_sku, "coupon_valid_days": reward.coupon_valid_days,
        "min_tier": str(reward.min_tier_id or ""), "segment": str(reward.segment_id or ""),
        "starts_on": reward.starts_at.astimezone(zone).date() if reward.starts_at else None,
        "ends_on": ends,
    }


def _save(form: RewardForm, reward: Reward | None):
    image, new_file = (reward.image if reward else None), None
    if has_upload(form.image):
        new_file = store_image(form.image, "rewards")
        if new_file is None:
            return _editor(form, reward, status=422)
        image = new_file
    data = form.reward_data(status=reward.status if reward else "draft", image=image,
                            tz=current_club().timezone)
    try:
        saved = rewards.save_reward(db.session, data, actor=staff_actor(), now=utcnow(),
                                    reward_id=reward.id if reward else None)
    except rewards.RewardInvalid as exc:
        db.session.rollback()
        discard_image(new_file, "rewards")
        for name, problem in exc.problems.items():
            if name == "value" and data.kind == "coupon_percent":
                name = "percent"
            field = getattr(form, FIELD_OF_PROBLEM.get(name, name), None)
            if field is not None:
                field.errors = [*field.errors, problem]
            else:
                form.form_errors.append(problem)
        return _editor(form, reward, status=422)
    db.session.commit()  # an old picture stays on disk: cached pages may still show it
    flash(_("The reward is saved."), "success")
    return redirect(url_for(".reward_edit", reward_id=saved.id))


@bp.post("/rewards/<int:reward_id>/status")
@staff_required("offers")
def reward_status(reward_id: int):
    reward = _reward(reward_id)
    status = request.form.get("status", "")
    if not ConfirmForm().validate_on_submit() or status not in STATUS_LABELS:
        abort(400)
    rewards.set_status(db.session, reward.id, status, actor=staff_actor(), now=utcnow())
    db.session.commit()
    flash(_("The reward is now: %(status)s.", status=STATUS_LABELS[status]), "success")
    return redirect(url_for(".reward_edit", reward_id=reward.id))


@bp.post("/rewards/<int:reward_id>/codes")
@staff_required("offers")
def reward_codes(reward_id: int):
    reward = _reward(reward_id)
    form = VoucherCodesForm()
    if not form.validate_on_submit():
        abort(400)
    text = form.codes.data or ""
    upload = form.file.data
    if upload and getattr(upload, "filename", ""):
        raw = upload.read(MAX_CODES_FILE + 1)
        if len(raw) > MAX_CODES_FILE:
            flash(_("The file is larger than 1 MB."), "error")
            return redirect(url_for(".reward_edit", reward_id=reward.id))
        text += "\n" + raw.decode("utf-8-sig", errors="replace")
    codes = rewards.parse_voucher_codes(text)
    if not codes:
        flash(_("No codes were given."), "error")
        return redirect(url_for(".reward_edit", reward_id=reward.id))
    try:
        done = rewards.add_voucher_codes(db.session, reward.id, codes, actor=staff_actor(), now=utcnow())
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
        return redirect(url_for(".reward_edit", reward_id=reward.id))
    db.session.commit()
    flash(_("%(added)s codes added, %(duplicates)s already there, %(invalid)s too long. %(free)s free codes now.",
            added=done.added, duplicates=done.duplicates, invalid=len(done.invalid), free=done.free), "success")
    return redirect(url_for(".reward_edit", reward_id=reward.id))


@bp.post("/coupons/<int:coupon_id>/cancel")
@staff_required("offers")
def coupon_cancel(coupon_id: int):
    form = CancelCouponForm()
    coupon = db.session.get(Coupon, coupon_id) if coupon_id <= 2**63 - 1 else None
    if coupon is None:
        abort(404)
    back = request.form.get("next") or url_for(".reward_edit", reward_id=coupon.reward_id)
    if not back.startswith("/admin/"):
        back = url_for(".reward_edit", reward_id=coupon.reward_id)
    if not form.validate_on_submit():
        abort(400)
    try:
        rewards.cancel_coupon(db.session, coupon.id, actor=staff_actor(), now=utcnow(), reason=form.reason.data or None)
    except DomainError:
        db.session.rollback()
        flash(_("Only a coupon that is not used yet can be cancelled."), "error")
        return redirect(back)
    db.session.commit()
    flash(_("The coupon is cancelled and its points are back with the member."), "success")
    return redirect(back)
