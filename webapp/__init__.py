"""Vafa: a customer club. `create_app` is the only way to get an app."""

from __future__ import annotations

from flask import Flask

from webapp.config import DEFAULTS, INSTANCE, ROOT, from_environment


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(INSTANCE),
    )
    _configure(app, test_config)
    _bind_extensions(app)
    _register_blueprints(app)

    from webapp.cli import register_commands

    register_commands(app)
    return app


def _configure(app: Flask, test_config: dict | None) -> None:
    """Defaults, then the environment, then the test's config; then what follows from them."""
    from webapp.redis_conn import limiter_storage_uri, resolve_redis_url

    app.config.update(DEFAULTS)
    app.config.update(from_environment())
    if test_config:
        app.config.update(test_config)
    app.config["REDIS_URL"] = resolve_redis_url(app.config["REDIS_URL"], INSTANCE)
    app.config.setdefault("RATELIMIT_STORAGE_URI", limiter_storage_uri(app.config["REDIS_URL"]))
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "vafa-limits")
    app.config.setdefault("BABEL_DEFAULT_LOCALE", app.config["VAFA_LOCALE"])
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", app.config["VAFA_TIMEZONE"])
    app.config.setdefault(
        "BABEL_TRANSLATION_DIRECTORIES",
        f"{ROOT / 'webapp' / 'translations'};{ROOT / 'webapp' / 'admin' / 'translations'}",
    )
    if app.config["VAFA_PROXY_COUNT"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # rate limits and the audit log need the visitor's address, not the proxy's
        n = app.config["VAFA_PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)


def _bind_extensions(app: Flask) -> None:
    from webapp import auth, club, i18n, security  # noqa: F401  (auth registers the user loader)
    from webapp.extensions import babel, csrf, db, htmx, limiter, login_manager
    from webapp.jobs import messages  # noqa: F401  (commits that write the outbox wake a worker)
    from webapp.redis_conn import connect

    db.init_app(app)
    app.extensions["vafa_redis"] = connect(app.config["REDIS_URL"])
    babel.init_app(app, locale_selector=i18n.current_locale)
    csrf.init_app(app)
    htmx.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "member.login"
    login_manager.blueprint_login_views = {"admin": "admin.login"}
    login_manager.session_protection = "basic"
    limiter.init_app(app)
    club.init_app(app)
    i18n.init_app(app)
    security.init_app(app)


def _register_blueprints(app: Flask) -> None:
    from webapp import errors
    from webapp.admin import bp as admin_bp
    from webapp.api import bp as api_bp
    from webapp.extensions import csrf
    from webapp.member import bp as member_bp
    from webapp.partner import bp as partner_bp

    app.register_blueprint(member_bp)
    app.register_blueprint(partner_bp)
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    csrf.exempt(api_bp)  # bearer keys, no cookies: CSRF does not apply
    from webapp.hooks import bp as hooks_bp

    app.register_blueprint(hooks_bp)
    csrf.exempt(hooks_bp)  # providers' callbacks carry a token, not cookies
    errors.init_app(app)
