"""The club context: built from the configuration once per app context and request,
the one way views, jobs, templates and services learn the zone, language and currency."""

from __future__ import annotations

import ast
from pathlib import Path

from webapp.club import Club, club_of, current_club, serving
from webapp.services import tiers

SERVICES = Path(__file__).resolve().parent.parent / "webapp" / "services"


def test_the_club_comes_from_the_configuration_with_defaults_for_what_is_unset():
    assert club_of({"VAFA_TIMEZONE": "Europe/Berlin", "VAFA_LOCALE": "en", "VAFA_CURRENCY": "EUR",
                    "VAFA_CLUB_NAME": "Kafe"}) == Club("Europe/Berlin", "en", "EUR", "Kafe")
    assert club_of({"VAFA_TIMEZONE": ""}) == Club() == Club("Asia/Tehran", "fa", "IRR", "")
    assert str(Club().zone) == "Asia/Tehran"


def test_outside_a_request_or_job_the_defaults_are_served_unless_told():
    assert current_club() == Club()
    with serving(Club(timezone="UTC")):
        assert tiers.club_timezone() == "UTC"
        assert tiers.club_timezone("Asia/Dubai") == "Asia/Dubai"  # an argument wins
    assert tiers.club_timezone() == "Asia/Tehran"


def test_each_app_context_and_request_serves_the_configured_club(app):
    app.config["VAFA_TIMEZONE"] = "Europe/Berlin"
    with app.app_context():
        assert current_club().timezone == "Europe/Berlin"
        assert tiers.club_timezone() == "Europe/Berlin"
        app.config["VAFA_CURRENCY"] = "EUR"
        # a request inside an open app context sees the configuration as it is now
        assert '"const":"EUR"' in app.test_client().get("/api/v1/openapi.json").get_data(as_text=True)
    assert current_club() == Club()


def test_no_service_reads_flask_current_app():
    for path in SERVICES.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "flask":
                assert "current_app" not in {a.name for a in node.names}, path
