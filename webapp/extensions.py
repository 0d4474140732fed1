"""Extension singletons, bound to the app in `create_app`."""

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx

from webapp.db import db

babel = Babel()
csrf = CSRFProtect()
htmx = Htmx()
login_manager = LoginManager()
limiter = Limiter(key_func=get_remote_address, default_limits=[])

__all__ = ["babel", "csrf", "db", "htmx", "limiter", "login_manager"]
