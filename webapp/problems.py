"""A service's refusal as form errors, in the staff member's language.

Services say what is wrong as codes: a `DomainError` has one (`exc.code`), a
`ProblemsInvalid` one per field (`exc.problems`: field -> code). This module
holds the words for every code, in one table, and `show_problems` puts them on
the form field each problem is about. The service has the last word on what
is valid; a form's own validators only catch typing mistakes early."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from flask_babel import lazy_gettext as _l

from webapp.problem_words import WORDS
from webapp.services.errors import DomainError, Problem, ProblemsInvalid

NOT_VALID = _l("This value is not valid.")

# problem field -> form field name (None: above the form), or a function from
# the problem to the form's field object
Fields = Mapping[str, str | None] | Callable[[Problem], object]


def words(code: str, params: Mapping | None = None, default=None) -> str:
    """The words for a code (its numbers filled in from `params`)."""
    text = WORDS.get(code)
    if text is None:
        return str(default if default is not None else NOT_VALID)
    return str(text) % params if params else str(text)


def messages(exc: DomainError) -> list[str]:
    """The words for each of a refusal's problems, or for the domain error
    itself (its English message when the table has none)."""
    if isinstance(exc, ProblemsInvalid) and exc.problems:
        return list(dict.fromkeys(words(code, exc.params.get(name)) for name, code in exc.problems.items()))
    return [words(exc.code, default=exc.message)]


def message(exc: DomainError) -> str:
    return " ".join(messages(exc))


def show_problems(form, error: DomainError | Mapping[str, str] | Iterable[Problem], *,
                  fields: Fields | None = None, field: str | None = None) -> None:
    """Put a refusal on the form: each problem on the field it names (through
    `fields`: a mapping of problem field -> form field name, None for the form
    itself, or a function of the problem returning the field), the rest above the form. A
    plain domain error goes on `field`, or above the form."""
    if isinstance(error, DomainError) and not isinstance(error, ProblemsInvalid):
        _add(form, getattr(form, field) if field else None, message(error))
        return
    for problem in _problems(error):
        _add(form, _field_of(form, problem, fields), words(problem.code, problem.params))


def _problems(error) -> list[Problem]:
    if isinstance(error, ProblemsInvalid):
        return [Problem(name, code, error.params.get(name, {})) for name, code in error.problems.items()]
    if isinstance(error, Mapping):
        return [Problem(name, code) for name, code in error.items()]
    return list(error)


def _field_of(form, problem: Problem, fields: Fields | None):
    if callable(fields):
        return fields(problem)
    name = problem.field
    if fields is not None and name in fields:
        name = fields[name]
    return field_at(form, name) if name else None


def field_at(form, path: str):
    """`levels-2-threshold` is row 2's threshold field of the `levels` list."""
    target = form
    for part in path.split("-"):
        if part.isdigit():
            entries = getattr(target, "entries", None)
            if entries is None or int(part) >= len(entries):
                return None
            target = entries[int(part)]
        else:
            target = getattr(getattr(target, "form", target), part, None)
        if target is None:
            return None
    return target if hasattr(target, "errors") and not hasattr(target, "_fields") else None


def _add(form, field, text: str) -> None:
    if field is None:
        if text not in form.form_errors:
            form.form_errors.append(text)
    elif text not in field.errors:
        field.errors = [*field.errors, text]
