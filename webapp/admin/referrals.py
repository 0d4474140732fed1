"""Staff pages for referrals (/admin/referrals): the program's rules with a
plain-words example, the review queue of held referrals (approve or reject,
audited by the service), the report per day/week/month with CSV, and the
filterable list of referrals with CSV. Reading needs "view" (auditors too);
changing anything needs "offers". Marketers have their own pages."""

from __future__ import annotations

from datetime import timedelta

from flask import (
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from jinja2_fragments.flask import render_block

from webapp import exports
from webapp.admin import bp, queries
from webapp.admin.common import eligibility_choices, staff_actor
from webapp.admin.referral_forms import (
    CHANNEL_LABELS,
    FLAG_LABELS,
    KIND_LABELS,
    PERIOD_LABELS,
    STATUS_LABELS,
    ListForm,
    ReferralExampleForm,
    ReferralRulesForm,
    ReportForm,
    ReviewForm,
    form_data,
)
from webapp.auth import staff_required
from webapp.club import current_club
from webapp.extensions import db
from webapp.htmx import page_or_fragment, wants_fragment
from webapp.i18n import localized
from webapp.models import Referral, Reward, utcnow
from webapp.problems import show_problems
from webapp.services import referrals
from webapp.services.errors import NotFound
from webapp.services.members import audit
from webapp.services.referrals import report as referral_report
from webapp.services.referrals import rules as referral_settings
from webapp.transaction import commits, refusal

MAX_ID = 2**63 - 1
QUEUE_PAGE = 25
LIST_PAGE = 50


def _labels() -> dict:
    return {"kind_labels": KIND_LABELS, "flag_labels": FLAG_LABELS, "status_labels": STATUS_LABELS,
            "period_labels": PERIOD_LABELS, "channel_labels": CHANNEL_LABELS}


# -- the rules -------------------------------------------------------------------


def _reward_name(reward_id: int | None) -> str | None:
    if not reward_id:
        return None
    reward = db.session.get(Reward, reward_id)
    if reward is None:
        return None
    return localized(reward, "name")


def _example(form) -> dict | None:
    """What a friend and their referrer would get under the rules being typed
    (the service's own check decides; None while something is wrong)."""
    if form.errors:
        return None
    rules = form.settings()
    problems = referral_settings.check(db.session, rules)
    if problems:
        show_problems(form, problems)
        return None
    gifts = {side: {"kind": getattr(rules, f"{side}_kind"), "amount": getattr(rules, f"{side}_amount"),
                    "reward": _reward_name(getattr(rules, f"{side}_reward_id"))}
             for side in ("friend", "referrer", "board")}
    return {"rules": rules, **gifts}


def _queue_count() -> int:
    return referral_report.queue_size(db.session)


@bp.get("/referrals", endpoint="referrals")
@staff_required("view")
def referrals_page():
    saved = referral_settings.load_settings(db.session)
    form = eligibility_choices(ReferralRulesForm(formdata=None, data=form_data(saved)))
    return render_template("admin/referrals.html", form=form, example=_example(form), queue=_queue_count(),
                           **_labels())



@bp.post("/referrals", endpoint="referrals_save")
@staff_required("offers")
@commits
def referrals_save():
    form = eligibility_choices(ReferralRulesForm())
    if form.validate_on_submit() and "preview" not in request.form:
        with refusal(form, only=(referral_settings.ReferralSettingsInvalid,)):
            referral_settings.save_settings(db.session, form.settings(), actor=staff_actor(), now=utcnow())
            flash(_("Referral rules saved."), "success")
            return redirect(url_for(".referrals"))
    example = _example(form)
    status = 422 if form.errors or form.form_errors else 200
    return render_template("admin/referrals.html", form=form, example=example, queue=_queue_count(),
                           **_labels()), status


@bp.get("/referrals/example")
@staff_required("view")
def referrals_example():
    """The live example (htmx): what the rules being typed would give."""
    form = eligibility_choices(ReferralExampleForm(request.args))
    example = _example(form) if form.validate() else None
    return render_block("admin/referrals.html", "example", example=example, **_labels())


# -- the review queue --------------------------------------------------------------


def _queue_page(page: int):
    return queries.paginate(db.session, referral_report.held_queue(), page, QUEUE_PAGE, scalars=False)


@bp.get("/referrals/review")
@staff_required("view")
def referral_review():
    page = _queue_page(queries.page_number(request.args.get("page")))
    return page_or_fragment("admin/referral_review.html", "queue", target="review-queue", page=page,
                            matches=referral_report.matches(db.session, page.items), review=ReviewForm(formdata=None),
                            queue=_queue_count(), **_labels())


def _decide(referral_id: int, decision, done: str):
    if referral_id > MAX_ID:
        abort(404)
    form = ReviewForm()
    if not form.validate_on_submit():
        abort(400)
    try:  # @commits rolls back the 404 and the 409
        referral = decision(db.session, referral_id, actor=staff_actor(), now=utcnow(), note=form.note.data or None)
    except NotFound:
        abort(404)
    except referrals.ReferralNotHeld:
        return _decided_row(referral_id, _("This referral is no longer held; someone decided it already."), 409)
    return _decided_row(referral.id, done, 200)


def _decided_row(referral_id: int, message: str, status: int):
    """htmx swaps the row for its outcome; without JavaScript, back to the queue."""
    if wants_fragment():
        row = db.session.execute(referral_report.listing().where(Referral.id == referral_id)).one()
        return render_block("admin/referral_review.html", "decided", row=row, message=message,
                            **_labels()), status
    flash(message, "success" if status == 200 else "error")
    if status == 200:
        return redirect(url_for(".referral_review"))
    page = _queue_page(1)
    return render_template("admin/referral_review.html", page=page,
                           matches=referral_report.matches(db.session, page.items), review=ReviewForm(formdata=None),
                           queue=_queue_count(), **_labels()), status


@bp.post("/referrals/<int:referral_id>/approve")
@staff_required("offers")
@commits
def referral_approve(referral_id: int):
    return _decide(referral_id, referrals.approve, _("Approved: the referral is paid when the friend qualifies."))


@bp.post("/referrals/<int:referral_id>/reject")
@staff_required("offers")
@commits
def referral_reject(referral_id: int):
    return _decide(referral_id, referrals.reject, _("Rejected: nobody is paid for this referral."))


# -- the report and the list -------------------------------------------------------


@bp.get("/referrals/report")
@staff_required("view")
def referral_report_page():
    form = ReportForm(request.args)
    rep = referral_report.report(db.session, form.chosen(), utcnow(), current_club().timezone)
    return page_or_fragment("admin/referral_report.html", "report", target="referral-report", form=form,
                            rep=rep, **_labels())


@bp.get("/referrals/report.csv")
@staff_required("view")
def referral_report_csv():
    period, now = ReportForm(request.args).chosen(), utcnow()
    rep = referral_report.report(db.session, period, now, current_club().timezone)
    return exports.download(f"referral-report-{period}-{now:%Y%m%d}.csv", referral_report.REPORT_COLUMNS,
                            lambda: referral_report.report_csv_rows(rep), fmt=exports.chosen_format(request.args))


def _list_filter(form: ListForm):
    status = form.status.data if form.status.data in STATUS_LABELS else None
    days = int(form.days.data) if form.days.data in ("1", "7", "30", "90") else None
    return status, (utcnow() - timedelta(days=days)) if days else None


@bp.get("/referrals/list")
@staff_required("view")
def referral_list():
    form = ListForm(request.args)
    status, since = _list_filter(form)
    page = queries.paginate(db.session, referral_report.listing(status, since),
                            queries.page_number(request.args.get("page")), LIST_PAGE, scalars=False)
    return page_or_fragment("admin/referral_list.html", "results", target="referral-results", form=form, page=page,
                            **_labels())


@bp.get("/referrals/list.csv")
@staff_required("view")
@commits
def referral_list_csv():
    form = ListForm(request.args)
    status, since = _list_filter(form)
    now = utcnow()
    # friends' addresses leave the club: say who took them
    audit.record(db.session, staff_actor(), "referral.export", "referral", None, now=now,
                 after={"status": status or "", "days": form.days.data or ""})  # @commits: before the rows stream
    query = referral_report.listing(status, since).execution_options(yield_per=1000)
    return exports.download(f"referrals-{status or 'all'}-{now:%Y%m%d}.csv", referral_report.LIST_COLUMNS,
                            lambda: (referral_report.list_csv_row(r) for r in db.session.execute(query)),
                            fmt=exports.chosen_format(request.args))

