"""Security headers, nothing loaded from other hosts, nothing inline, and the
vendored front-end assets (htmx, Vazirmatn, PWA manifest and icons)."""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path

import pytest

from tests.helpers.web import post_form

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "static"
PASSWORD = "a-good-password-1"
ANONYMOUS_PAGES = ["/", "/join", "/login", "/logout", "/does-not-exist"]
MEMBER_PAGES = ["/me", "/me/activity", "/me/settings", "/logout"]


@pytest.fixture
def pages(make_member, client):
    """Every member-facing page as HTML, in both languages, signed out and in."""
    make_member(email="pages@example.com", password=PASSWORD, points=10, credit=500)
    rendered = {}
    for locale in ("fa", "en"):
        client.set_cookie("vafa_locale", locale)
        for url in ANONYMOUS_PAGES:
            rendered[(locale, url)] = client.get(url)
    post_form(client, "/login", {"login": "pages@example.com", "password": PASSWORD})
    for locale in ("fa", "en"):
        post_form(client, "/locale", {"locale": locale, "next": "/"}, form_url="/me")
        for url in MEMBER_PAGES:
            rendered[(locale, "member " + url)] = client.get(url)
    return rendered


def test_every_page_sends_the_security_headers(pages):
    for key, response in pages.items():
        csp = response.headers.get("Content-Security-Policy", "")
        assert "default-src 'self'" in csp and "script-src 'self'" in csp, key
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, key
        assert response.headers.get("X-Content-Type-Options") == "nosniff", key
        assert response.headers.get("X-Frame-Options") == "DENY", key


def test_no_page_loads_or_links_anything_from_another_host(pages):
    for key, response in pages.items():
        html = response.get_data(as_text=True)
        foreign = [url for url in re.findall(r"(?:https?:)?//[^\s\"'<>)]+", html)
                   if not re.match(r"(?:https?:)?//localhost(?:[/:]|$)", url)]
        assert not foreign, (key, foreign)


def test_no_page_has_inline_scripts_styles_or_handlers(pages):
    for key, response in pages.items():
        html = response.get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), key
        assert "<style" not in html and " style=" not in html, key
        assert not re.search(r"\son[a-z]+=", html), key
        assert "hx-on" not in html, key


def test_every_page_has_a_csrf_header_for_htmx_and_a_language_direction(pages):
    for (locale, url), response in pages.items():
        html = response.get_data(as_text=True)
        assert re.search(r'<body hx-headers=\'\{"X-CSRFToken": "[^"]+"\}\'', html), url
        direction = "rtl" if locale == "fa" else "ltr"
        assert f'<html lang="{locale}" dir="{direction}">' in html, (locale, url)


def test_stylesheets_load_nothing_from_other_hosts():
    for css in STATIC.rglob("*.css"):
        text = css.read_text()
        assert not re.search(r"https?://|@import|url\(\s*['\"]?//", text), css


def test_the_stylesheet_is_rtl_safe_and_ships_the_persian_font():
    css = (STATIC / "css" / "app.css").read_text()
    # logical properties only, so one stylesheet serves both directions
    physical = re.findall(r"(?:margin|padding|border)-(?:left|right)\b|\b(?:left|right)\s*:|"
                          r"text-align:\s*(?:left|right)\b", css)
    assert physical == [], physical
    assert 'url("../fonts/Vazirmatn.woff2")' in css and "font-display: swap" in css
    assert ".htmx-indicator" in css  # htmx may not inject its own <style> under our CSP


def test_vendored_assets_are_served(client):
    htmx = client.get("/static/js/htmx.min.js")
    assert htmx.status_code == 200
    assert re.search(rb'version:"2\.\d+\.\d+"', htmx.data)  # one major version: htmx 2
    font = client.get("/static/fonts/Vazirmatn.woff2")
    assert font.status_code == 200 and font.data[:4] == b"wOF2"
    assert client.get("/static/js/app.js").status_code == 200
    assert client.get("/static/css/app.css").status_code == 200


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_pwa_manifest_and_icons(client):
    response = client.get("/static/manifest.webmanifest")
    assert response.status_code == 200
    manifest = json.loads(response.data)
    assert manifest["start_url"] == "/me" and manifest["display"] == "standalone"
    purposes = set()
    for icon in manifest["icons"]:
        served = client.get(f"/static/{icon['src']}")
        assert served.status_code == 200, icon
        if icon["type"] == "image/png":
            width, height = _png_size(served.data)
            assert f"{width}x{height}" == icon["sizes"], icon
        purposes.add(icon.get("purpose", "any"))
    assert {"any", "maskable"} <= purposes
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes


def test_htmx_is_configured_without_eval(client):
    html = client.get("/").get_data(as_text=True)
    config = json.loads(re.search(r'<meta name="htmx-config" content=\'([^\']+)\'', html).group(1))
    assert config["allowEval"] is False and config["includeIndicatorStyles"] is False
    assert config["allowScriptTags"] is False


def test_every_htmx_element_also_has_a_real_link(app, make_member, client):
    from datetime import UTC, datetime

    from webapp.extensions import db
    from webapp.services import ledger

    member = make_member(email="links@example.com", password=PASSWORD)
    with app.app_context():
        for n in range(25):
            ledger.award_points(db.session, member.id, 1 + n, key=f"l{n}", now=datetime.now(UTC))
        db.session.commit()
    post_form(client, "/login", {"login": "links@example.com", "password": PASSWORD})
    html = client.get("/me/activity").get_data(as_text=True)
    elements = re.findall(r"<[a-z]+[^>]*\bhx-(?:get|post)=[^>]*>", html)
    assert elements
    for element in elements:
        assert re.search(r'\b(?:href|action)="/', element), element
