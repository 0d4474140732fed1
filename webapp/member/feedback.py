"""`/feedback`: a member writes to the club (a question, a suggestion or a
complaint, with an optional picture) and follows their threads; `/feedback/<id>`
is one thread, where the member writes back. Only the member's own threads
exist for them: someone else's id is a 404. Staff's internal notes are never
read here. Posting is rate limited per member; a refusal (a bad picture, too
many messages) keeps what the member typed on the form."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from limits import parse_many
from wtforms import RadioField, SelectChoice, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from webapp.auth import current_member, member_required
from webapp.extensions import db, limiter
from webapp.member import bp
from webapp.member.messages import add_domain_error
from webapp.models import utcnow
from webapp.services import feedback
from webapp.services.errors import NotFound
from webapp.services.feedback import threads
from webapp.transaction import commits, refusal
from webapp.uploads import PictureRefused, discard_picture, save_picture, send_picture

KIND = "feedback"
MAX_ID = 2**31 - 1
# the whole request may carry a picture a little over the 1 MB we keep, so the
# refusal is a sentence on the form rather than the bare "too large" page
MAX_REQUEST = 8 * 1024 * 1024
POSTING_ENDPOINTS = ("member.feedback_page", "member.feedback_thread")

CATEGORY_LABELS = {
    "question": _l("Question"), "suggestion": _l("Suggestion"), "complaint": _l("Complaint"),
    "survey": _l("Survey follow-up"),
}
STATUS_LABELS = {
    "new": _l("Sent"), "open": _l("Being looked at"), "answered": _l("Answered"), "closed": _l("Closed"),
}
PICTURE_REFUSALS = {
    "too_large": _l("The picture is larger than 1 MB. Choose a smaller one (your text is kept)."),
    "not_an_image": _l("Only PNG, JPEG or WebP pictures can be sent. Choose another file (your text is kept)."),
}
BODY = _l("Your message")
BODY_REQUIRED = _l("Write your message.")
BODY_TOO_LONG = _l("Keep it under %(n)s characters, please.")
PICTURE = _l("Picture (optional: PNG, JPEG or WebP, up to 1 MB)")


class FeedbackForm(FlaskForm):
    category = RadioField(_l("What is it about?"),
                          choices=[SelectChoice(c, CATEGORY_LABELS[c]) for c in threads.MEMBER_CATEGORIES],
                          validators=[InputRequired(_l("Choose what your message is about."))])
    body = TextAreaField(BODY, validators=[DataRequired(BODY_REQUIRED),
                                           Length(max=threads.MAX_BODY, message=BODY_TOO_LONG)])
    picture = FileField(PICTURE)


class ReplyForm(FlaskForm):
    body = TextAreaField(_l("Your reply"), validators=[DataRequired(BODY_REQUIRED),
                                                       Length(max=threads.MAX_BODY, message=BODY_TOO_LONG)])
    picture = FileField(PICTURE)


@bp.url_value_preprocessor
def _allow_a_picture(endpoint: str | None, _values) -> None:
    # runs before CSRFProtect reads the form (a before_request hook): the only
    # place a larger body can be let in for these two pages
    if endpoint in POSTING_ENDPOINTS and request.method == "POST":
        request.max_content_length = MAX_REQUEST


def _within_rate_limit(member_id: int) -> bool:
    """Count one message against FEEDBACK_RATE_LIMIT (per member). Only messages
    that would be saved count: a form sent back for a typo costs nothing."""
    if not limiter.enabled:
        return True
    items = parse_many(current_app.config["FEEDBACK_RATE_LIMIT"])
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX", "")
    hits = [limiter.limiter.hit(item, prefix, "feedback", str(member_id)) for item in items]  # each counts
    return all(hits)


def _store_picture(form) -> tuple[bool, str | None]:
    """(ok, stored name). A refused picture puts its reason on the form."""
    upload = form.picture.data
    if not (upload and getattr(upload, "filename", "")):
        return True, None
    try:
        return True, save_picture(upload, KIND)
    except PictureRefused as refused:
        form.picture.errors = [*form.picture.errors, str(PICTURE_REFUSALS[refused.reason])]
        return False, None


def _post(form, save) -> tuple[object | None, int]:
    """Checks shared by a new thread and a reply: the rate limit, the picture,
    then `save(picture)`; returns (what was saved, or None; status if not)."""
    if not _within_rate_limit(current_member().id):
        form.form_errors.append(_("You have sent several messages in a short time. "
                                  "Please wait a few minutes and send this again; your text is kept below."))
        return None, 429
    ok, picture = _store_picture(form)
    if not ok:
        return None, 422
    with refusal(form, show=add_domain_error, field="body"):
        return save(picture), 200
    discard_picture(picture, KIND)
    return None, 422


def _thread_or_404(thread_id: int):
    if thread_id > MAX_ID:
        abort(404)
    try:
        return threads.member_thread(db.session, thread_id, current_member().id)
    except NotFound:
        abort(404)


def _feedback_page(form, status: int = 200):
    rows = threads.member_threads(db.session, current_member().id)
    return render_template("member/feedback.html", form=form, threads=rows, categories=CATEGORY_LABELS,
                           statuses=STATUS_LABELS), status


@bp.route("/feedback", methods=["GET", "POST"])
@member_required
@commits
def feedback_page():
    form = FeedbackForm()
    if form.validate_on_submit():
        thread, status = _post(form, lambda picture: feedback.open_thread(
            db.session, member_id=current_member().id, category=form.category.data, body=form.body.data,
            now=utcnow(), picture=picture))
        if thread is not None:
            flash(_("Thank you! Your message reached the club. You will find the answer here and in your inbox."),
                  "success")
            return redirect(url_for(".feedback_thread", thread_id=thread.id))
        return _feedback_page(form, status)
    return _feedback_page(form, 422 if request.method == "POST" else 200)


def _thread_page(thread, form, status: int = 200):
    posts = threads.member_posts(db.session, thread)
    return render_template("member/feedback_thread.html", thread=thread, posts=posts, form=form,
                           categories=CATEGORY_LABELS, statuses=STATUS_LABELS), status


@bp.route("/feedback/<int:thread_id>", methods=["GET", "POST"])
@member_required
@commits
def feedback_thread(thread_id: int):
    thread = _thread_or_404(thread_id)
    form = ReplyForm()
    if form.validate_on_submit():
        post, status = _post(form, lambda picture: feedback.member_reply(
            db.session, thread_id=thread.id, member_id=current_member().id, body=form.body.data,
            now=utcnow(), picture=picture))
        if post is not None:
            flash(_("Your reply is sent."), "success")
            return redirect(url_for(".feedback_thread", thread_id=thread.id, _anchor=f"post-{post.id}"))
        return _thread_page(_thread_or_404(thread_id), form, status)
    return _thread_page(thread, form, 422 if request.method == "POST" else 200)


@bp.get("/feedback/<int:thread_id>/pictures/<int:post_id>")
@member_required
def feedback_picture(thread_id: int, post_id: int):
    if max(thread_id, post_id) > MAX_ID:
        abort(404)
    try:
        name = threads.member_picture(db.session, member_id=current_member().id, post_id=post_id)
    except NotFound:
        abort(404)
    return send_picture(KIND, name, private=True)
