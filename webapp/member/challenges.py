"""Member pages for challenges: `/me/challenges` (what you joined, with progress
and days left, and what you can join) and the join button (a CSRF-protected
POST; htmx swaps the challenge in place, without JavaScript the page reloads).
The numbers come from `services.challenges`; this module words them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_wtf import FlaskForm
from wtforms import HiddenField

from webapp.auth import current_member, member_required, safe_next
from webapp.club import current_club
from webapp.extensions import db
from webapp.htmx import is_htmx
from webapp.i18n import current_locale, format_money, format_number, localized
from webapp.member import bp
from webapp.member.messages import DOMAIN_ERRORS, GENERIC_ERROR
from webapp.member.tiers import multiplier
from webapp.models import utcnow
from webapp.services.offers import challenges as service
from webapp.transaction import commits, refusal, reread

CARD_JOINED = 3
CARD_OPEN = 2


class JoinForm(FlaskForm):
    next = HiddenField()  # where a no-JavaScript join returns to (/me or /me/challenges)


@dataclass(frozen=True)
class ChallengesCard:
    joined: list[service.MemberChallenge]
    open: list[service.MemberChallenge]
    more: int  # challenges not shown on the card
    now: datetime


def dashboard_facts(member, now) -> dict:
    """The `facts` the card needs when /me fetches its cards' facts together."""
    return service.member_facts(db.session, member, now)


def dashboard_state(member, now, found: dict | None = None):
    """What the challenges card on /me shows (None: no card)."""
    items = service.member_challenges(db.session, member, now, found)
    if not items:
        return None
    joined = [i for i in items if i.joined][:CARD_JOINED]
    shown = joined + [i for i in items if not i.joined][:CARD_OPEN]
    return ChallengesCard(joined, shown[len(joined):], len(items) - len(shown), now)


@bp.get("/me/challenges")
@member_required
def challenges_page():
    items = service.member_challenges(db.session, current_member(), utcnow())
    return render_template("member/challenges.html", items=items, now=utcnow())


@bp.post("/me/challenges/<int:challenge_id>/join")
@member_required
@commits
def join_challenge(challenge_id: int):
    form, member, now = JoinForm(), current_member(), utcnow()
    back = safe_next(form.next.data, url_for(".challenges_page"))
    error = None
    if not form.validate_on_submit():
        error = _("This form has expired. Please try again.")
    else:
        with refusal(category=None) as refused:
            service.join_challenge(db.session, challenge_id=challenge_id, member_id=member.id, now=now)
            reread()
        if refused:
            error = DOMAIN_ERRORS.get(refused.error.code, (None, GENERIC_ERROR))[1]
    if is_htmx():
        item = service.member_challenge(db.session, member, challenge_id, now)
        # htmx swaps only 2xx answers: a refusal is said inside the swapped part
        return render_template("_partials/challenge_item.html", item=item, now=now, error=error,
                               next_url=back, challenge_id=challenge_id)
    if error:
        flash(error, "error")
    else:
        flash(_("You joined the challenge. Good luck!"), "success")
    return redirect(back)


# -- words and numbers for the templates -------------------------------------------------


def challenge_description(challenge) -> str | None:
    if current_locale() == "fa":
        return challenge.description_fa or None
    return challenge.description_en or None


def goal_amount(challenge, value: int) -> str:
    """An amount of the challenge's metric: purchases, money or categories."""
    value = int(value or 0)
    if challenge.metric == "spend":
        return format_money(value)
    if challenge.metric == "categories":
        return ngettext("%(n)s category", "%(n)s categories", value, n=format_number(value))
    return ngettext("%(n)s purchase", "%(n)s purchases", value, n=format_number(value))


def goal_text(challenge) -> str:
    goal = goal_amount(challenge, challenge.goal)
    if challenge.metric == "spend":
        return _("Spend %(amount)s", amount=goal)
    if challenge.metric == "categories":
        return _("Buy from %(amount)s", amount=goal)
    return _("Make %(amount)s", amount=goal)


def deal_words(item: service.MemberChallenge) -> list[str]:
    """What the member gets, in their words: the perk first, then the reward."""
    challenge, words = item.challenge, []
    if challenge.perk_multiplier_bp:
        words.append(_("Earn %(factor)s points on purchases while the challenge runs",
                       factor=multiplier(challenge.perk_multiplier_bp)))
    if challenge.reward_points:
        words.append(ngettext("%(n)s point when you reach the goal", "%(n)s points when you reach the goal",
                              challenge.reward_points, n=format_number(challenge.reward_points)))
    reward = localized(item, "reward_name")
    if reward:
        words.append(_("%(reward)s when you reach the goal", reward=reward))
    return words


def days_left(challenge, now: datetime) -> int:
    """Club-local days still open, today included (1: today is the last day)."""
    zone = current_club().zone
    last_day = (challenge.ends_at - timedelta(microseconds=1)).astimezone(zone).date()
    return (last_day - now.astimezone(zone).date()).days + 1


def last_day(challenge) -> datetime:
    return challenge.ends_at - timedelta(microseconds=1)


@bp.app_context_processor
def _challenge_words() -> dict:
    return {"challenge_description": challenge_description,
            "goal_amount": goal_amount, "goal_text": goal_text, "deal_words": deal_words,
            "challenge_days_left": days_left, "challenge_last_day": last_day}
