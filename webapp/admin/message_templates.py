"""What the club says by itself (`/admin/messages/templates`): each message kind
by category with its channel switches, and an editor per kind and language with
a live preview (htmx, as staff type) of the e-mail, the SMS with its length and
the push. Owners and marketers edit; auditors read. The owner's messaging
settings (quiet hours, marketing cap, win-back) are at `/admin/messages/settings`."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from jinja2_fragments.flask import render_block

from webapp.admin import bp
from webapp.admin.common import staff_actor
from webapp.admin.message_forms import (
    CATEGORY_LABELS,
    CHANNEL_LABELS,
    KIND_LABELS,
    LOCALE_LABELS,
    ChannelsForm,
    TemplateForm,
)
from webapp.auth import staff_required
from webapp.extensions import db
from webapp.forms.confirm import ConfirmForm
from webapp.models import CATEGORIES, utcnow
from webapp.services.messages import catalog, render
from webapp.services.messages import templates as wording
from webapp.services.messages.texts import Text
from webapp.transaction import commits, refusal

EDITORS = ("offers",)  # owner, marketer
READERS = ("offers", "audit")  # … and the auditor, read-only


def _may(capabilities) -> bool:
    return any(current_user.can(c) for c in capabilities)


def _readable():
    if not _may(READERS):
        abort(403)


def _kind_or_404(kind: str, locale: str | None = None) -> None:
    if kind not in catalog.KINDS or (locale is not None and locale not in wording.LOCALES):
        abort(404)


def _kinds_by_category() -> list[tuple[str, list[dict]]]:
    switched = wording.overridden(db.session)
    groups = []
    for category in CATEGORIES:
        rows = [{"kind": kind, "label": KIND_LABELS.get(kind, kind), "on": catalog.channels_for(db.session, kind),
                 "switchable": wording.switchable(kind), "edited": {loc for k, loc in switched if k == kind}}
                for kind, spec in catalog.KINDS.items() if spec.category == category]
        groups.append((category, rows))
    return groups


@bp.get("/messages/templates")
@staff_required("view")
def message_templates():
    _readable()
    return render_template("admin/message_templates.html", groups=_kinds_by_category(),
                           categories=CATEGORY_LABELS, channel_labels=CHANNEL_LABELS,
                           locales=LOCALE_LABELS, can_edit=_may(EDITORS), form=ChannelsForm())


@bp.post("/messages/templates/<kind>/channels")
@staff_required("offers")
@commits
def message_channels(kind: str):
    _kind_or_404(kind)
    form = ChannelsForm()
    if not form.validate_on_submit():
        abort(400)
    with refusal():
        wording.set_channels(db.session, kind, tuple(form.channels.data or ()), actor=staff_actor(), now=utcnow())
        flash(_("Channels of “%(kind)s” saved.", kind=KIND_LABELS.get(kind, kind)), "success")
    return redirect(url_for(".message_templates", _anchor=f"kind-{kind}"))


def _editor(kind: str, locale: str, form: TemplateForm, preview=None, status: int = 200):
    spec = catalog.KINDS[kind]
    context = {"kind": kind, "locale": locale, "form": form, "preview": preview, "label": KIND_LABELS.get(kind, kind),
               "locales": LOCALE_LABELS, "variables": (*render.COMMON_VARIABLES, *spec.variables),
               "category": CATEGORY_LABELS[spec.category], "can_edit": _may(EDITORS),
               "edited": (kind, locale) in wording.overridden(db.session)}
    return render_template("admin/message_template.html", **context), status


def _preview(kind: str, locale: str, form: TemplateForm):
    """The preview of what is typed, or None with the refusal on the form."""
    try:
        return wording.preview(kind, locale, Text(form.subject.data or "", form.body.data or ""),
                               current_app.config)
    except wording.TemplateRefused as refused:
        field = getattr(form, refused.field)
        variable = refused.problem.variable
        field.errors = [*field.errors, _("Unknown variable: %(name)s", name=variable) if variable
                        else _("This template cannot be used: %(problem)s", problem=str(refused.problem))]
        return None


@bp.route("/messages/templates/<kind>/<locale>", methods=["GET", "POST"])
@staff_required("view")
@commits
def message_template(kind: str, locale: str):
    _readable()
    _kind_or_404(kind, locale)
    current = wording.template_for(db.session, kind, locale)
    form = TemplateForm(data={"subject": current.subject, "body": current.body})
    if form.is_submitted() and not _may(EDITORS):
        abort(403)
    if not form.validate_on_submit():
        status = 422 if form.errors else 200
        return _editor(kind, locale, form, _preview(kind, locale, form) if not form.errors else None, status)
    shown = _preview(kind, locale, form)
    if shown is None:
        return _editor(kind, locale, form, None, 422)
    if "preview" in request.form:  # the Preview button, without JavaScript
        return _editor(kind, locale, form, shown)
    wording.save_template(db.session, kind, locale, Text(form.subject.data, form.body.data),
                          actor=staff_actor(), now=utcnow())
    flash(_("Template saved."), "success")
    return redirect(url_for(".message_template", kind=kind, locale=locale))


@bp.post("/messages/templates/<kind>/<locale>/preview")
@staff_required("offers")
def message_template_preview(kind: str, locale: str):
    """The live preview (htmx) of the wording being typed; nothing is saved."""
    _kind_or_404(kind, locale)
    form = TemplateForm()
    form.validate()
    shown = _preview(kind, locale, form)
    return render_block("admin/message_template.html", "preview", form=form, preview=shown)


@bp.post("/messages/templates/<kind>/<locale>/reset")
@staff_required("offers")
@commits
def message_template_reset(kind: str, locale: str):
    _kind_or_404(kind, locale)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if wording.reset_template(db.session, kind, locale, actor=staff_actor(), now=utcnow()):
        flash(_("Back to the default wording."), "success")
    return redirect(url_for(".message_template", kind=kind, locale=locale))
