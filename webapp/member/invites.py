"""Invite links, member side: the public landing page `/r/<code>` (Open Graph
and Twitter Card meta for messenger previews; counts the open once per device,
never bots' or the owner's; remembers the link for the join), the member's
`/invite` page (link, QR, share buttons, the rules in plain words, their own
funnel and the month's board) and `POST /invite/share` (which button was
pressed). A member only ever sees their own funnel: no member ids in URLs."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, jsonify, render_template, request, url_for
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_wtf import FlaskForm
from wtforms import StringField

from webapp.auth import current_member, member_required
from webapp.club import current_club
from webapp.extensions import db, limiter
from webapp.member import bp
from webapp.member import inbox as inbox_pages
from webapp.member.invite_cookies import attribute, attributed_link, device_visitor
from webapp.member.invite_words import (
    InviteTerms,
    first_name,
    friend_offer,
    gift_text,
    invite_terms,
    reward_names,
)
from webapp.models import utcnow
from webapp.qr import qr_svg
from webapp.services import referrals
from webapp.services.errors import DomainError
from webapp.services.referrals import shares, stats, tally
from webapp.services.referrals.rules import ReferralSettings, load_settings
from webapp.transaction import commits

SHARE_LIMIT = "30 per minute;300 per day"
OG_IMAGE = "img/invite-share.png"  # 1200×630, what messengers show in the preview
OG_IMAGE_SIZE = (1200, 630)

for _kind in ("referral_welcome", "referral_qualified", "referral_reversed"):
    inbox_pages.KIND_TEMPLATES.setdefault(_kind, f"_partials/inbox_{_kind}.html")


class ShareForm(FlaskForm):
    # validated by the service (one list of channels, in the model)
    channel = StringField()


def _friend_offer(rules: ReferralSettings) -> str | None:
    if not rules.enabled:
        return None
    names = reward_names(db.session, rules)
    return friend_offer(rules, gift_text(rules.friend_kind, rules.friend_amount, names.get(rules.friend_reward_id)))


@bp.get("/r/<code>")
@commits
def invite_landing(code: str):
    link = referrals.resolve(db.session, code, request.args.get("c"))
    if link is None:
        return render_template("member/invite_unknown.html"), 404
    rules, viewer = load_settings(db.session), current_member()
    own = viewer is not None and viewer.id == link.referrer_id
    user_agent = request.headers.get("User-Agent")
    if rules.enabled and not own and not referrals.is_bot(user_agent):
        referrals.record_open(db.session, link, visitor=device_visitor(), user_agent=user_agent, now=utcnow(),
                              viewer_id=viewer.id if viewer else None)
        attribute(link, rules.attribution_days)
    page_url = url_for(".invite_landing", code=link.code, c=link.campaign, _external=True)
    response = current_app.make_response(render_template(
        "member/invite_landing.html", link=link, own=own, offer=_friend_offer(rules), page_url=page_url,
        og_image=url_for("static", filename=OG_IMAGE, _external=True), og_image_size=OG_IMAGE_SIZE))
    response.headers["Cache-Control"] = "private, no-store"  # per-visitor cookies
    return response


def join_offer() -> tuple[referrals.Link | None, str | None]:
    """For /join: the link that brought this browser (`?ref=<code>` or the
    attribution cookie, inside the window) and the friend's offer in words."""
    rules = load_settings(db.session)
    if not rules.enabled:
        return None, None
    link = None
    if request.args.get("ref"):
        link = referrals.resolve(db.session, request.args["ref"], request.args.get("c"))
        if link is not None:
            attribute(link, rules.attribution_days)  # the POST reads it back from the cookie
    link = link or attributed_link(db.session, rules.attribution_days)
    return link, _friend_offer(rules) if link else None


# -- /invite -------------------------------------------------------------------


@dataclass(frozen=True)
class BoardLine:
    rank: int
    name: str
    qualified: int
    mine: bool


def _board(member_id: int, month: str) -> tuple[list[BoardLine], tuple[int, int] | None]:
    rows, ranks = stats.standings(db.session, month)
    lines = [BoardLine(r.rank, first_name(r.name), r.qualified, r.member_id == member_id) for r in rows]
    return lines, ranks.get(member_id)


@bp.get("/invite")
@member_required
def invite():
    member, now = current_member(), utcnow()
    rules = load_settings(db.session)
    link = url_for(".invite_landing", code=member.referral_code, _external=True)
    board, rank = _board(member.id, referrals.club_month(now, current_club().timezone))
    terms: InviteTerms = invite_terms(db.session, rules)
    share_text = _("Join %(club)s with my invitation.", club=current_club().name or _("Vafa club"))
    if terms.friend_offer:
        share_text = f"{share_text} {terms.friend_offer}"
    return render_template(
        "member/invite.html", member=member, rules=rules, link=link, qr=qr_svg(link, svgclass="invite-qr-svg"),
        terms=terms, funnel=stats.member_funnel(tally.read(db.session, member.id)), board=board, rank=rank,
        share_text=share_text, share_form=ShareForm(formdata=None),
    )


def _share_key() -> str:
    member = current_member()
    return f"invite-share:{member.id}" if member else get_remote_address()


@bp.post("/invite/share")
@member_required
@limiter.limit(SHARE_LIMIT, key_func=_share_key)
@commits
def invite_share():
    form = ShareForm()
    if not form.validate_on_submit():  # only the CSRF token can fail here
        return jsonify(error={"code": "bad_request", "message": "The form expired; reload the page."}), 400
    try:  # @commits rolls the 422 back
        shares.record_share(db.session, member_id=current_member().id, channel=form.channel.data,
                                     now=utcnow())
    except DomainError as exc:
        return jsonify(error={"code": exc.code, "message": exc.message}), 422
    return "", 204


def dashboard_state(member) -> InviteTerms | None:
    """The small invite card on /me (none when the program is off)."""
    rules = load_settings(db.session)
    return invite_terms(db.session, rules) if rules.enabled else None
