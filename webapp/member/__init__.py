from flask import Blueprint

bp = Blueprint("member", __name__)

from webapp.member import routes, wallet  # noqa: E402,F401
