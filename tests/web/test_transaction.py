"""@commits owns an HTML view's transaction, refusal() turns a service's
refusal into form errors; both without a route (the decorated function is
called in a request context, as Flask would)."""

from __future__ import annotations

from wtforms import Form, StringField

from webapp.extensions import db
from webapp.models import ClubSetting
from webapp.services.errors import DomainError, ProblemsInvalid
from webapp.transaction import after_commit, commits, refusal


class NameForm(Form):
    name_en = StringField()


def _saved(key: str) -> bool:
    return db.session.get(ClubSetting, key) is not None


def _write(key: str) -> None:
    db.session.add(ClubSetting(key=key, value=1))
    db.session.flush()


def test_an_answer_below_400_commits_then_runs_what_waits_for_the_commit(app):
    ran = []

    @commits
    def view():
        _write("kept")
        after_commit(lambda: ran.append(_saved("kept")))
        return "saved"

    with app.test_request_context("/", method="POST"):
        assert view().status_code == 200
        db.session.rollback()  # nothing left to roll back: it is committed
        assert _saved("kept") and ran == [True]


def test_an_error_answer_or_an_exception_rolls_back_and_skips_the_waiting_work(app):
    ran = []

    @commits
    def refused():
        _write("refused")
        after_commit(lambda: ran.append("refused"))
        return "no", 409

    @commits
    def crashed():
        _write("crashed")
        raise RuntimeError("boom")

    with app.test_request_context("/", method="POST"):
        assert refused().status_code == 409
        try:
            crashed()
        except RuntimeError:
            pass
        assert not _saved("refused") and not _saved("crashed") and ran == []


def test_a_refusal_is_rolled_back_and_worded_on_the_field_it_names(app):
    form = NameForm()

    @commits
    def view():
        with refusal(form, fields={"name": "name_en"}):
            _write("half-done")
            raise ProblemsInvalid({"name": "names_required", "deal": "deal_required"})
        return "form again", 422

    with app.test_request_context("/", method="POST"):
        assert view().status_code == 422
        assert form.name_en.errors == ["Give the Persian and the English name."]
        assert form.form_errors == ["Give the deal: an earn multiplier, points or a reward (or more)."]
        assert not _saved("half-done")


def test_a_refusal_without_a_form_is_flashed_and_a_redirect_still_commits_nothing_of_it(app):
    class Gone(DomainError):
        code = "segment_archived"

    @commits
    def view():
        with refusal() as refused:
            _write("archived")
            raise Gone()
        assert refused and isinstance(refused.error, Gone)
        return "", 302, {"Location": "/back"}

    with app.test_request_context("/", method="POST"):
        from flask import get_flashed_messages

        assert view().status_code == 302
        assert get_flashed_messages(with_categories=True) == [
            ("error", "This segment is archived; it can no longer be changed.")]
        assert not _saved("archived")
