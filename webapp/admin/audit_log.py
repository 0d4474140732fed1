"""The audit log of staff writes, for owners and auditors."""

from __future__ import annotations

from flask import request
from flask_babel import gettext as _
from wtforms import SelectChoice

from webapp.admin import bp, queries
from webapp.admin.staff_forms import AuditFilterForm
from webapp.auth import staff_required
from webapp.extensions import db
from webapp.htmx import page_or_fragment


@bp.get("/audit")
@staff_required("audit")
def audit():
    form = AuditFilterForm(request.args)
    form.action.choices = [SelectChoice("", _("All actions"))] + [
        SelectChoice(a) for a in queries.audit_actions(db.session)]
    form.staff.choices = [SelectChoice("", _("All staff"))] + [
        SelectChoice(str(s.id), s.email) for s in queries.all_staff(db.session)]
    action = (form.action.data or "")[:64] or None
    staff_id = queries.optional_id(form.staff.data)
    page = queries.audit_page(db.session, queries.page_number(request.args.get("page")),
                              action=action, staff_id=staff_id)
    return page_or_fragment("admin/audit.html", "results", target="audit-results", form=form, page=page)
