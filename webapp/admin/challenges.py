"""Staff pages for challenges (under /admin): the list with how many joined and
completed, a form to define one (draft), edit it (the goal, period and deal are
fixed once members have joined), and the draft → active → ended buttons.
Every write goes through `services.challenges`, which audits it."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from webapp.admin import bp
from webapp.admin.challenge_forms import METRIC_LABELS, STATUS_LABELS, ChallengeForm, form_data
from webapp.admin.common import eligibility_choices, staff_actor
from webapp.auth import staff_required
from webapp.club import current_club
from webapp.extensions import db
from webapp.forms.confirm import ConfirmForm
from webapp.i18n import current_locale
from webapp.models import Challenge, utcnow
from webapp.services.offers import challenges as service
from webapp.transaction import commits, refusal

# form fields that carry the locked columns (service.LOCKED_FIELDS)
LOCKED_INPUTS = ("metric", "goal", "categories", "starts_on", "ends_on", "perk_multiplier",
                 "reward_points", "reward")
# service problem keys → the form field that shows them
PROBLEM_FIELDS = {"name": "name_en", "metric": "metric", "goal": "goal", "categories": "categories",
                  "ends_at": "ends_on", "perk_multiplier_bp": "perk_multiplier",
                  "reward_points": "reward_points", "deal": "reward", "min_tier_id": "min_tier",
                  "segment_id": "segment", "reward_id": "reward"}




def _challenge(challenge_id: int) -> Challenge:
    challenge = db.session.get(Challenge, challenge_id)
    if challenge is None:
        abort(404)
    return challenge


@bp.get("/challenges")
@staff_required("offers")
def challenges():
    rows = list(db.session.scalars(select(Challenge).order_by(Challenge.id.desc())))
    stats = service.challenge_stats(db.session, [c.id for c in rows])
    return render_template("admin/challenges.html", rows=rows, stats=stats, now=utcnow(),
                           metric_labels=METRIC_LABELS, status_labels=STATUS_LABELS)


@bp.route("/challenges/new", methods=["GET", "POST"])
@staff_required("offers")
@commits
def new_challenge():
    form = eligibility_choices(ChallengeForm())
    if form.validate_on_submit():
        with refusal(form, only=(service.ChallengeInvalid,), fields=PROBLEM_FIELDS):
            challenge = service.create_challenge(db.session, form.spec(current_club().timezone), actor=staff_actor(), now=utcnow())
            flash(_("The challenge is saved as a draft. Activate it when it is ready."), "success")
            return redirect(url_for(".challenge", challenge_id=challenge.id))
    status = 422 if request.method == "POST" else 200
    return render_template("admin/challenges_form.html", form=form, challenge=None, locked=False), status


@bp.route("/challenges/<int:challenge_id>", methods=["GET", "POST"])
@staff_required("offers")
@commits
def challenge(challenge_id: int):
    challenge = _challenge(challenge_id)
    stats = service.challenge_stats(db.session, [challenge_id]).get(challenge_id, service.ChallengeStats())
    locked = stats.joined > 0
    saved = form_data(challenge, current_club().timezone, current_locale())
    if request.method == "POST":
        form = eligibility_choices(ChallengeForm(formdata=_with_locked(saved) if locked else None))
    else:
        form = eligibility_choices(ChallengeForm(formdata=None, data=saved))
    if request.method == "POST" and form.validate_on_submit():
        with refusal(form, only=(service.ChallengeInvalid, service.ChallengeLocked, service.ChallengeWrongStatus),
                     fields=PROBLEM_FIELDS, say={
                         service.ChallengeLocked: _("Members joined while you were editing: the goal, period and "
                                                    "deal are now fixed. Your other changes were not saved; check "
                                                    "them and save again."),
                         service.ChallengeWrongStatus: _("An ended challenge cannot be edited.")}):
            service.update_challenge(db.session, challenge_id, form.spec(current_club().timezone), actor=staff_actor(), now=utcnow())
            flash(_("The challenge is saved."), "success")
            return redirect(url_for(".challenge", challenge_id=challenge_id))
    status = 422 if request.method == "POST" else 200
    return render_template("admin/challenges_form.html", form=form, challenge=challenge, stats=stats,
                           locked=locked, confirm=ConfirmForm(), status_labels=STATUS_LABELS,
                           now=utcnow()), status


def _with_locked(saved: dict) -> MultiDict:
    """The posted form with the locked fields put back to what is saved: the
    page shows them disabled (browsers do not send those), and a crafted post
    cannot change them either."""
    shown = ChallengeForm(formdata=None, data=saved, meta={"csrf": False})
    posted = request.form.copy()
    for name in LOCKED_INPUTS:
        field = shown[name]
        posted.setlist(name, [field._value() if hasattr(field, "_value") else str(field.data or "")])
    return posted


@bp.post("/challenges/<int:challenge_id>/activate")
@staff_required("offers")
@commits
def activate_challenge(challenge_id: int):
    return _status_change(challenge_id, service.activate_challenge,
                          _("The challenge is active: eligible members can see and join it."))


@bp.post("/challenges/<int:challenge_id>/end")
@staff_required("offers")
@commits
def end_challenge(challenge_id: int):
    return _status_change(challenge_id, service.end_challenge,
                          _("The challenge has ended. What members earned stays theirs."))


def _status_change(challenge_id: int, change, done: str):
    _challenge(challenge_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    with refusal(only=(service.ChallengeWrongStatus,), say=_status_refusal):
        change(db.session, challenge_id, actor=staff_actor(), now=utcnow())
        flash(done, "success")
    return redirect(url_for(".challenge", challenge_id=challenge_id))


def _status_refusal(exc: service.ChallengeWrongStatus) -> str:
    if exc.details.get("status") == "ended":
        return _("The challenge has already ended.")
    if exc.details.get("status") == "active":
        return _("The challenge is already active.")
    return _("The challenge's last day has passed: change its period before activating it.")


