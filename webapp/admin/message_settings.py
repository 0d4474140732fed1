"""The owner's messaging settings (`/admin/messages/settings`): quiet hours, the
daily cap on marketing messages, and the win-back message (after how many days
without a purchase, with which offer)."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import SelectChoice

from webapp.admin import bp
from webapp.admin.common import staff_actor
from webapp.admin.message_forms import OFFER_LABELS, MessagingSettingsForm
from webapp.auth import staff_required
from webapp.extensions import db
from webapp.i18n import localized
from webapp.models import Reward, utcnow
from webapp.services.errors import ProblemsInvalid
from webapp.services.messages import policy, winback
from webapp.services.messages.settings import save_messaging_settings
from webapp.transaction import commits, refusal

# a service's problem code -> (form field, words)
PROBLEMS = {
    "time_format": _l("A time like 22:00."),
    "cap_range": _l("Between 0 and 100."),
    "days_range": _l("Between 0 (off) and 3650 days."),
    "offer_unknown": _l("Choose an offer."),
    "reward_unavailable": _l("Choose a reward that is not archived."),
    "points_range": _l("Between 1 and 1,000,000 bonus points."),
}
FIELDS = {"quiet_start": "quiet_start", "quiet_end": "quiet_end", "daily_marketing_cap": "daily_marketing_cap",
          "days": "win_back_days", "offer": "win_back_offer", "reward_id": "win_back_reward",
          "points": "win_back_points"}


def _show(form, exc: ProblemsInvalid) -> None:
    for name, code in exc.problems.items():
        field = getattr(form, FIELDS.get(name, ""), None)
        words = PROBLEMS.get(code, _l("This value is not valid."))
        if field is None:
            form.form_errors.append(words)
        else:
            field.errors = [*field.errors, words]


def _form() -> MessagingSettingsForm:
    quiet = policy.load_messaging_settings(db.session)
    back = winback.load_win_back_settings(db.session)
    form = MessagingSettingsForm(data={
        "quiet_start": quiet.quiet_start, "quiet_end": quiet.quiet_end,
        "daily_marketing_cap": quiet.daily_marketing_cap, "win_back_days": back.days,
        "win_back_offer": back.offer, "win_back_reward": str(back.reward_id or ""),
        "win_back_points": back.points or None})
    rewards = db.session.execute(select(Reward.id, localized(Reward, "name")).where(Reward.status != "archived")
                                 .order_by(Reward.id)).all()
    form.win_back_reward.choices = [SelectChoice("", _("Choose…"))] + [SelectChoice(str(i), name) for i, name in rewards]
    return form


@bp.route("/messages/settings", methods=["GET", "POST"])
@staff_required("settings")
@commits
def message_settings():
    form = _form()
    if form.validate_on_submit():
        with refusal(form, only=(ProblemsInvalid,), show=_show):
            actor, now = staff_actor(), utcnow()
            save_messaging_settings(db.session, quiet_start=form.quiet_start.data, quiet_end=form.quiet_end.data,
                                    daily_marketing_cap=form.daily_marketing_cap.data, actor=actor, now=now)
            reward = form.win_back_reward.data
            winback.save_win_back_settings(db.session, winback.WinBackSettings(
                days=form.win_back_days.data, offer=form.win_back_offer.data,
                reward_id=int(reward) if reward and reward.isdigit() and len(reward) < 10 else None,
                points=form.win_back_points.data or 0), actor=actor, now=now)
            flash(_("Messaging settings saved."), "success")
            return redirect(url_for(".message_settings"))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("admin/message_settings.html", form=form, offers=OFFER_LABELS), status
