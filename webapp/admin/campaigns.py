"""Staff pages for campaigns (under /admin): the list, the editor for drafts,
and the campaign page with its actions (schedule, start now, cancel, retry),
the progress of a run (htmx polling only while the job works) and the report
against the control group."""

from __future__ import annotations

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from webapp.admin import bp
from webapp.admin.campaign_forms import (
    EVERYONE,
    KIND_LABELS,
    STATUS_LABELS,
    CampaignForm,
    form_data,
)
from webapp.admin.campaign_forms import PROBLEMS as PROBLEM_WORDS
from webapp.admin.common import staff_actor
from webapp.auth import staff_required
from webapp.extensions import db
from webapp.forms.confirm import ConfirmForm
from webapp.htmx import wants_fragment
from webapp.i18n import localized
from webapp.jobs.campaigns import enqueue_run
from webapp.models import Campaign, EarnRule, Reward, Segment, utcnow
from webapp.services.errors import NotFound
from webapp.services.offers import campaigns as service

PROGRESS_TARGET = "campaign-progress"
MAX_ID = 2**31 - 1  # ids are 32-bit integers in the database


def _choices(form: CampaignForm, campaign_id: int | None = None) -> None:
    """Fill the audience, reward and rule lists (three queries)."""
    segments = db.session.scalars(select(Segment).where(Segment.archived_at.is_(None)).order_by(Segment.name))
    form.segment.choices = [("", _("Choose…")), (EVERYONE, _("Every active member"))] + [
        (str(s.id), s.name) for s in segments]
    rewards = db.session.scalars(select(Reward).where(Reward.status != "archived").order_by(Reward.id))
    form.reward.choices = [("", _("Choose…"))] + [
        (str(r.id), _("%(name)s (catalog price %(points)s)", name=localized(r, "name"), points=r.cost_points))
        for r in rewards]
    mine = EarnRule.campaign_id.is_(None) if campaign_id is None else \
        EarnRule.campaign_id.is_(None) | (EarnRule.campaign_id == campaign_id)
    rules = db.session.scalars(select(EarnRule).where(EarnRule.status == "draft", mine).order_by(EarnRule.id))
    form.earn_rule.choices = [("", _("Choose…"))] + [(str(r.id), localized(r, "name")) for r in rules]


def _campaign_or_404(campaign_id: int) -> Campaign:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        abort(404)
    return campaign


@bp.get("/campaigns")
@staff_required("offers")
def campaigns():
    rows = service.campaign_list(db.session)
    ids = {c.segment_id for c in rows if c.segment_id is not None}
    names = dict(db.session.execute(select(Segment.id, Segment.name).where(Segment.id.in_(ids))).all()) \
        if ids else {}
    return render_template("admin/campaigns.html", campaigns=rows, segment_names=names,
                           kinds=KIND_LABELS, statuses=STATUS_LABELS)


def _editor(form: CampaignForm, campaign: Campaign | None, status: int = 200):
    return render_template("admin/campaign_form.html", form=form, campaign=campaign, **_audience(form)), status


def _audience(form: CampaignForm) -> dict:
    """The audience preview for the chosen segment and control percent: nothing
    until a segment is chosen; the split only for a percent the form accepts."""
    choice = form.segment.data or ""
    if choice != EVERYONE and not (choice.isdigit() and int(choice) <= MAX_ID):
        return {"split": None, "control_percent": None}
    percent = form.control_percent.data
    if percent is None or not 0 <= percent <= service.MAX_CONTROL_PERCENT:
        percent = None
    try:
        split = service.audience_split(db.session, None if choice == EVERYONE else int(choice), percent or 0,
                                       utcnow())
    except NotFound:
        split = None
    return {"split": split, "control_percent": percent}


@bp.get("/campaigns/audience")
@staff_required("offers")
def campaign_audience():
    """The editor's live audience count, swapped in by htmx when the segment or
    the control percent changes (reads only: a GET of the two fields)."""
    form = CampaignForm(formdata=request.args, meta={"csrf": False})
    return render_template("admin/_campaign_audience.html", **_audience(form))


@bp.route("/campaigns/new", methods=["GET", "POST"])
@staff_required("offers")
def campaign_new():
    form = CampaignForm()
    _choices(form)
    if not form.validate_on_submit():
        return _editor(form, None, 422 if request.method == "POST" else 200)
    try:
        campaign = service.create_campaign(db.session, form.draft(), actor=staff_actor(), now=utcnow())
    except service.CampaignInvalid as exc:
        db.session.rollback()
        form.show_problems(exc.problems)
        return _editor(form, None, 422)
    db.session.commit()
    flash(_("Campaign saved as a draft. Check it, then schedule it."), "success")
    return redirect(url_for(".campaign", campaign_id=campaign.id))


@bp.route("/campaigns/<int:campaign_id>/edit", methods=["GET", "POST"])
@staff_required("offers")
def campaign_edit(campaign_id: int):
    campaign = _campaign_or_404(campaign_id)
    if campaign.status != "draft":
        flash(_("Only a draft can be changed."), "error")
        return redirect(url_for(".campaign", campaign_id=campaign.id))
    form = CampaignForm(data=form_data(campaign))
    _choices(form, campaign.id)
    if not form.validate_on_submit():
        return _editor(form, campaign, 422 if request.method == "POST" else 200)
    try:
        service.update_campaign(db.session, campaign.id, form.draft(), actor=staff_actor(), now=utcnow())
    except service.CampaignInvalid as exc:
        db.session.rollback()
        form.show_problems(exc.problems)
        return _editor(form, campaign, 422)
    except service.CampaignStateConflict:
        db.session.rollback()
        flash(_("Only a draft can be changed."), "error")
        return redirect(url_for(".campaign", campaign_id=campaign.id))
    db.session.commit()
    flash(_("Campaign saved."), "success")
    return redirect(url_for(".campaign", campaign_id=campaign.id))


def polling(campaign: Campaign) -> bool:
    """The page asks for progress only while the job has work: due to start, or awarding."""
    if campaign.status == "scheduled":
        return campaign.starts_at <= utcnow()
    return campaign.status == "running" and campaign.members_done < campaign.members_total


@bp.get("/campaigns/<int:campaign_id>")
@staff_required("offers")
def campaign(campaign_id: int):
    campaign = _campaign_or_404(campaign_id)
    context = {"campaign": campaign, "polling": polling(campaign), "kinds": KIND_LABELS,
               "statuses": STATUS_LABELS}
    if wants_fragment(PROGRESS_TARGET):
        response = make_response(render_template("admin/_campaign_progress.html", **context))
        if not context["polling"]:
            response.headers["HX-Refresh"] = "true"  # finished: reload for the report and actions
        return response
    now = utcnow()
    context.update(
        form=ConfirmForm(),
        segment=db.session.get(Segment, campaign.segment_id) if campaign.segment_id else None,
        reward=db.session.get(Reward, campaign.reward_id) if campaign.reward_id else None,
        rule=db.session.get(EarnRule, campaign.earn_rule_id) if campaign.earn_rule_id else None,
        audience=service.audience_size(db.session, campaign.segment_id, now)
        if campaign.status in ("draft", "scheduled") else None,
        report=service.campaign_report(db.session, campaign.id, now) if campaign.started_at else None,
    )
    return render_template("admin/campaign.html", **context)


def _act(campaign_id: int, action, done_message: str, *, enqueue: bool = False):
    """One staff action on a campaign: CSRF-checked, audited by the service,
    committed, then (for a start) the job enqueued once the row is visible."""
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        action(db.session, campaign_id, actor=staff_actor(), now=utcnow())
    except NotFound:
        abort(404)
    except service.CampaignStateConflict as exc:
        db.session.rollback()
        flash(_("The campaign is %(status)s now; that is no longer possible.",
                status=STATUS_LABELS.get(exc.details.get("status"), exc.details.get("status"))), "error")
        return redirect(url_for(".campaign", campaign_id=campaign_id)), 303
    except service.CampaignInvalid as exc:
        db.session.rollback()
        for problem in exc.problems.values():
            flash(str(PROBLEM_WORDS.get(problem, problem)), "error")
        return redirect(url_for(".campaign", campaign_id=campaign_id)), 303
    db.session.commit()
    if enqueue:
        enqueue_run(campaign_id)
    flash(done_message, "success")
    return redirect(url_for(".campaign", campaign_id=campaign_id)), 303


@bp.post("/campaigns/<int:campaign_id>/schedule")
@staff_required("offers")
def campaign_schedule(campaign_id: int):
    return _act(campaign_id, service.schedule_campaign,
                _("Scheduled: the campaign starts by itself at its start time."))


@bp.post("/campaigns/<int:campaign_id>/start")
@staff_required("offers")
def campaign_start(campaign_id: int):
    def start_now(session, cid, **kwargs):
        return service.schedule_campaign(session, cid, start_now=True, **kwargs)

    return _act(campaign_id, start_now, _("Starting now: progress shows below."), enqueue=True)


@bp.post("/campaigns/<int:campaign_id>/cancel")
@staff_required("offers")
def campaign_cancel(campaign_id: int):
    return _act(campaign_id, service.cancel_campaign, _("Campaign cancelled."))


@bp.post("/campaigns/<int:campaign_id>/retry")
@staff_required("offers")
def campaign_retry(campaign_id: int):
    return _act(campaign_id, service.retry_campaign, _("Running again from where it stopped."), enqueue=True)
