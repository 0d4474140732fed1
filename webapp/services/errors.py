"""Domain errors. Views map them to form errors, the API to {"error": {code, message}}."""

from __future__ import annotations


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


class ProblemsInvalid(DomainError):
    """Not valid."""

    code = "invalid"

    def __init__(self, problems: dict[str, str]):
        what = (self.__class__.__doc__ or "Not valid.").strip().rstrip(".")
        super().__init__(f"{what}: " + "; ".join(f"{k}: {v}" for k, v in problems.items()), problems=problems)
        self.problems = problems
