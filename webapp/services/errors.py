"""Domain errors. Views map them to form errors (webapp/problems.py), the API
to {"error": {code, message}}."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


class DomainError(Exception):
    code = "invalid"
    status = 422

    def __init__(self, message: str = "", **details):
        super().__init__(message or self.__class__.__doc__ or self.code)
        self.message = message or (self.__class__.__doc__ or self.code).strip()
        self.details = details


class NotFound(DomainError):
    """Not found."""

    code = "not_found"
    status = 404


class Conflict(DomainError):
    """Conflicts with existing data."""

    code = "conflict"
    status = 409


class InsufficientBalance(DomainError):
    """The balance is too low for this."""

    code = "insufficient_balance"
    status = 409


class InsufficientPoints(InsufficientBalance):
    """Not enough points."""

    code = "insufficient_points"


class InsufficientCredit(InsufficientBalance):
    """Not enough store credit."""

    code = "insufficient_credit"


class IdempotencyConflict(Conflict):
    """This idempotency key was already used for a different operation."""

    code = "idempotency_conflict"


class MemberNotActive(DomainError):
    """The member account is not active."""

    code = "member_not_active"
    status = 409


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: the field it is about ("" for the whole
    input) and a stable snake_case code the views' words are keyed by, with the
    numbers those words need in `params`."""

    field: str
    code: str
    params: dict = field(default_factory=dict, compare=False)


class ProblemsInvalid(DomainError):
    """Not valid."""

    code = "invalid"

    def __init__(self, problems: Mapping[str, str] | Iterable[Problem]):
        if isinstance(problems, Mapping):
            problems = [Problem(name, code) for name, code in problems.items()]
        problems = list(problems)
        self.problems: dict[str, str] = {p.field: p.code for p in problems}  # field -> code
        self.params: dict[str, dict] = {p.field: p.params for p in problems if p.params}
        what = (self.__class__.__doc__ or "Not valid.").strip().rstrip(".")
        # codes, not sentences: the words are the views' (webapp/problems.py)
        super().__init__(f"{what}: " + "; ".join(f"{k}: {v}" for k, v in self.problems.items()),
                         problems=self.problems)
