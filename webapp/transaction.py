"""One transaction per HTML request, owned here rather than by each view.

`@commits` wraps a view (as the API's `@idempotent` does): an answer below 400
(a page, a redirect) commits, an error answer or an exception rolls back. So a
view reads form -> service -> render, and a service's refusal is handled with

    with refusal(form) as refused:
        service.do_it(...)
        return redirect(...)
    return render_template(...), 422

where `refusal` rolls back what the service did and puts its words on the form
(webapp/problems.py) or, with no form, flashes them. Work that must follow the
commit (enqueueing a job that reads the new rows) is registered with
`after_commit`."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import wraps

from flask import current_app, flash, g

from webapp.extensions import db
from webapp.problems import Fields, messages, show_problems
from webapp.services.errors import DomainError


def commits(view):
    """Commit what the view did when it answers below 400; else roll it back."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        g.after_commit = []
        try:
            response = current_app.make_response(view(*args, **kwargs))
        except BaseException:
            db.session.rollback()
            raise
        if response.status_code < 400:
            db.session.commit()
            for callback in g.after_commit:
                callback()
        else:
            db.session.rollback()
        return response

    return wrapper


def after_commit(callback: Callable[[], object]) -> None:
    """Run `callback` once the request's transaction is committed (never if it
    is not); only inside a view wrapped in `@commits`."""
    g.after_commit.append(callback)


class Refused:
    """What a `refusal` block caught: falsy when the service did not refuse."""

    error: DomainError | None = None

    def __bool__(self) -> bool:
        return self.error is not None


@contextmanager
def refusal(form=None, *, only: tuple[type[Exception], ...] = (DomainError,), fields: Fields | None = None,
            field: str | Callable[[DomainError], str | None] | None = None, say=None,
            show: Callable[[object, DomainError], None] | None = None,
            category: str | None = "error") -> Iterator[Refused]:
    """Catch a service's refusal (one of `only`): roll back what it did, then
    show why on `form` (through `fields`, or on `field`: a name, or a
    function of the error returning one), or flash it when no
    form is given. `say` replaces the words for the code with the view's own:
    words, a function of the error returning them, or a mapping of error
    class -> either (the first class the error is an instance of); `show`
    replaces the staff words altogether (members' pages have their own);
    `category=None` with no form says nothing (the page shows why itself)."""
    refused = Refused()
    try:
        yield refused
    except only as exc:
        db.session.rollback()
        refused.error = exc
        text = _own_words(say, exc)
        field = field(exc) if callable(field) else field
        if form is None:
            for line in ([text] if text is not None else messages(exc)) if category else ():
                flash(str(line), category)
        elif text is not None:
            _say(form, field, text)
        elif show is not None:
            show(form, exc)
        else:
            show_problems(form, exc, fields=fields, field=field)


def reread() -> None:
    """Before rendering what a service just wrote: flush, and forget the loaded
    rows so the page reads them as the database has them (the ledger moves
    balances with UPDATEs the ORM does not see; a commit did this before)."""
    db.session.flush()
    db.session.expire_all()
    g.pop("vafa_unread", None)  # the badge the member's query counted (webapp.auth)


def _own_words(say, exc: DomainError):
    if isinstance(say, Mapping):
        say = next((v for cls, v in say.items() if isinstance(exc, cls)), None)
    return say(exc) if callable(say) else say


def _say(form, field: str | None, text) -> None:
    target = getattr(form, field) if field else None
    if target is None:
        form.form_errors.append(str(text))
    else:
        target.errors = [*target.errors, str(text)]
