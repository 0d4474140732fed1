"""The marketer's (affiliate's) own pages under /partner: sign-in for those
outside the member base, and the dashboard (link, QR, campaign links, funnel,
earnings) for them and for members promoted to marketers."""

from flask import Blueprint

bp = Blueprint("partner", __name__, url_prefix="/partner")

from webapp.partner import routes  # noqa: E402,F401
