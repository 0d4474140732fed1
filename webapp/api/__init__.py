"""The integration JSON API (`/api/v1`) for tills and web shops.

Bearer API keys (club-wide, created by the owner), one rate-limit bucket per
key, `Idempotency-Key` on every POST, errors as {"error": {code, message}}."""

from flask import Blueprint
from sqlalchemy.exc import IntegrityError

from webapp.api import keys
from webapp.api.responses import ApiError, error_response
from webapp.extensions import db, limiter
from webapp.services.errors import DomainError

bp = Blueprint("api", __name__)

bp.before_request(keys.require_api_key)
limiter.shared_limit(keys.rate_limit, scope="api", key_func=keys.rate_limit_key)(bp)


@bp.after_request
def _no_store(response):
    # answers carry members' balances and personal data: no shared caches
    response.headers.setdefault("Cache-Control", "no-store")
    return response


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError):
    db.session.rollback()
    return error_response(exc)


@bp.errorhandler(DomainError)
def _domain_error(exc: DomainError):
    db.session.rollback()
    return error_response(ApiError.from_domain(exc))


@bp.errorhandler(IntegrityError)
def _race(_exc: IntegrityError):
    # a concurrent request wrote the same unique data first; the retry will see it
    db.session.rollback()
    return error_response(ApiError(409, "conflict", "A concurrent request changed the same data; retry."))


from webapp.api import coupons, routes  # noqa: E402,F401
