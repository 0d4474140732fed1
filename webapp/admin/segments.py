"""Staff pages for segments (under /admin): the list with live counts, the
condition builder with a live count and preview, CSV export and archiving."""

from __future__ import annotations

from flask import (
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from webapp import exports
from webapp.admin import bp
from webapp.admin.common import staff_actor
from webapp.admin.segment_forms import SegmentForm, checked_conditions, describe, form_data
from webapp.auth import staff_required
from webapp.club import current_club
from webapp.extensions import db
from webapp.forms.confirm import ConfirmForm
from webapp.htmx import wants_fragment
from webapp.i18n import current_locale
from webapp.models import Segment, utcnow
from webapp.services import tiers as tiers_service
from webapp.services.errors import DomainError
from webapp.services.offers import segments

PREVIEW_SIZE = 20


def _levels():
    program = tiers_service.load_program(db.session)
    return list(program.levels) if program else []


def _segment_or_404(segment_id: int) -> Segment:
    segment = db.session.get(Segment, segment_id)
    if segment is None:
        abort(404)
    return segment


@bp.get("/segments", endpoint="segments")
@staff_required("offers")
def segment_list():
    archived = request.args.get("archived") == "1"
    rows = segments.list_segments(db.session, archived=archived)
    counts = {} if archived else segments.counts(db.session, rows, utcnow())
    levels = {lv.id: lv for lv in _levels()}
    words = {s.id: describe(s.conditions, levels, current_locale()) for s in rows}
    return render_template("admin/segments.html", rows=rows, counts=counts, words=words, archived=archived)


def _editor(form: SegmentForm, *, status: int = 200, segment: Segment | None = None, conditions=None):
    """The editor page; for htmx's live count just its count block. The count and
    preview show when the conditions are valid (`conditions` not None)."""
    levels = _levels()
    form.set_choices(levels, current_locale())
    context = {"form": form, "segment": segment, "conditions": conditions}
    if conditions is not None:
        now = utcnow()
        context["count"] = segments.count_matching(db.session, conditions, now)
        context["preview"] = segments.first_members(db.session, conditions, now, PREVIEW_SIZE)
        context["words"] = describe(conditions, {lv.id: lv for lv in levels}, current_locale())
    if wants_fragment("segment-count"):
        # htmx swaps only 2xx answers: a form with mistakes says so inside the fragment
        return render_template("admin/_segment_count.html", **context)
    return render_template("admin/segment_edit.html", **context), status


def _posted_form() -> SegmentForm:
    form = SegmentForm()
    form.set_choices(_levels(), current_locale())
    return form


@bp.get("/segments/new")
@staff_required("offers")
def segment_new():
    return _editor(SegmentForm(formdata=None))


@bp.post("/segments/count")
@staff_required("offers")
def segment_count():
    """The live count (htmx) or, without JavaScript, the editor with its count."""
    form = _posted_form()
    conditions = checked_conditions(form)
    segment = _segment_or_404(int(form.segment_id.data)) if (form.segment_id.data or "").isdigit() else None
    return _editor(form, segment=segment, conditions=conditions,
                   status=200 if conditions is not None else 422)


@bp.post("/segments/new")
@staff_required("offers")
def segment_create():
    form = _posted_form()
    conditions = checked_conditions(form)
    if conditions is None:
        return _editor(form, status=422)
    try:
        segment = segments.create_segment(db.session, name=form.name.data, description=form.description.data,
                                          conditions=conditions, actor=staff_actor(), now=utcnow())
    except DomainError as exc:
        db.session.rollback()
        _name_error(form, exc)
        return _editor(form, status=422)
    db.session.commit()
    flash(_("Segment “%(name)s” saved.", name=segment.name), "success")
    return redirect(url_for(".segment", segment_id=segment.id))


def _name_error(form: SegmentForm, exc: DomainError) -> None:
    if isinstance(exc, segments.SegmentNameTaken):
        form.name.errors = [*form.name.errors, _("Another segment already has this name.")]
    elif isinstance(exc, segments.SegmentArchived):
        form.form_errors.append(_("This segment is archived; it can no longer be changed."))
    else:
        form.form_errors.append(exc.message)


@bp.get("/segments/<int:segment_id>")
@staff_required("offers")
def segment(segment_id: int):
    segment = _segment_or_404(segment_id)
    now, levels = utcnow(), {lv.id: lv for lv in _levels()}
    return render_template(
        "admin/segment.html", segment=segment, words=describe(segment.conditions, levels, current_locale()),
        count=segments.count(db.session, segment_id, now),
        preview=segments.first_members(db.session, segment.conditions, now, PREVIEW_SIZE),
        archive_form=ConfirmForm())


@bp.route("/segments/<int:segment_id>/edit", methods=["GET", "POST"])
@staff_required("offers")
def segment_edit(segment_id: int):
    segment = _segment_or_404(segment_id)
    if segment.archived_at is not None:
        flash(_("This segment is archived; it can no longer be changed."), "error")
        return redirect(url_for(".segment", segment_id=segment_id))
    if request.method == "GET":
        return _editor(SegmentForm(formdata=None, data=form_data(segment)), segment=segment)
    form = _posted_form()
    form.segment_id.data = str(segment_id)
    conditions = checked_conditions(form)
    if conditions is None:
        return _editor(form, segment=segment, status=422)
    try:
        segments.update_segment(db.session, segment_id, name=form.name.data, description=form.description.data,
                                conditions=conditions, actor=staff_actor(), now=utcnow())
    except DomainError as exc:
        db.session.rollback()
        _name_error(form, exc)
        return _editor(form, segment=_segment_or_404(segment_id), status=422)
    db.session.commit()
    flash(_("Segment “%(name)s” saved.", name=form.name.data), "success")
    return redirect(url_for(".segment", segment_id=segment_id))


@bp.post("/segments/<int:segment_id>/archive")
@staff_required("offers")
def segment_archive(segment_id: int):
    _segment_or_404(segment_id)
    if ConfirmForm().validate_on_submit():
        segments.archive_segment(db.session, segment_id, actor=staff_actor(), now=utcnow())
        db.session.commit()
        flash(_("The segment is archived. Rules and campaigns that use it keep working."), "success")
    return redirect(url_for(".segments"))


@bp.get("/segments/<int:segment_id>/members.csv")
@staff_required("offers")
def segment_export(segment_id: int):
    _segment_or_404(segment_id)
    now, locale = utcnow(), current_locale()
    levels = _levels()
    names = {lv.id: lv.name(locale) for lv in levels}
    if levels:
        names[None] = levels[0].name(locale)  # not evaluated yet: the entry level
    total = segments.count(db.session, segment_id, now)
    segments.record_export(db.session, segment_id, rows=total, actor=staff_actor(), now=now)
    db.session.commit()

    filename, tz = f"segment-{segment_id}-{now:%Y%m%d}.csv", current_club().timezone
    # the mobile (+98…) is normalised, not typed: only the name and e-mail are free text
    return exports.download(filename, segments.EXPORT_COLUMNS,
                            lambda: segments.export_rows(db.session, segment_id, now, tier_names=names, tz=tz),
                            fmt=exports.chosen_format(request.args), free_text={1, 2})
