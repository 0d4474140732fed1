"""Browser-test infrastructure: the test app served on loopback, Debian's
Chromium through Playwright (never `playwright install`), phone-sized contexts
in either locale that fail the test on any request to another host or any CSP
violation, and axe-core for accessibility.

Everything under tests/e2e is marked `e2e` (`pytest -m "not e2e"` skips it) and
`real_commits` (see tests/conftest.py).
Without /usr/bin/chromium the tests skip on a developer machine and FAIL in CI."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
INSTALL_HINT = ("apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "
                "--no-install-recommends chromium fonts-noto-core")
BROWSER_LOCALES = {"fa": "fa-IR", "en": "en-US"}
E2E_DIR = Path(__file__).parent


def pytest_collection_modifyitems(config, items):
    for item in items:
        if E2E_DIR in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.e2e)
            # the live server answers from its own threads: they must see committed rows
            item.add_marker(pytest.mark.real_commits)


@pytest.fixture
def live_server(app):
    """The test `app` served by werkzeug in a background thread; yields the base URL."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        message = f"Chromium is missing at {CHROMIUM}; install it with: {INSTALL_HINT}"
        if os.environ.get("CI"):
            pytest.fail(f"CI needs the browser tests: {message}", pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--disable-background-networking"],
        )
        yield browser
        browser.close()


@pytest.fixture
def browser_page(browser, live_server):
    """Factory: `browser_page("fa")` → a Page in a fresh phone-sized context
    (390×844, touch) whose club locale cookie and browser locale are set.

    Requests to any host but the live server are blocked and fail the test, and
    so do Content-Security-Policy violations (an inline script or style)."""
    server = urlsplit(live_server).netloc
    contexts = []
    external: list[str] = []
    csp_violations: list[str] = []

    def route(route_, request):
        parts = urlsplit(request.url)
        if parts.scheme in {"http", "https", "ws", "wss"} and parts.netloc != server:
            external.append(request.url)
            route_.abort()
        else:
            route_.continue_()

    def on_console(message):
        if message.type == "error" and "Content Security Policy" in message.text:
            csp_violations.append(message.text)

    def make(locale: str = "fa", *, set_locale_cookie: bool = True):
        context = browser.new_context(
            base_url=live_server,
            viewport={"width": 390, "height": 844},
            is_mobile=True,
            has_touch=True,
            locale=BROWSER_LOCALES[locale],
        )
        contexts.append(context)
        context.set_default_timeout(10_000)
        context.route("**/*", route)
        if set_locale_cookie:
            context.add_cookies([{"name": "vafa_locale", "value": locale, "url": live_server}])
        page = context.new_page()
        page.on("console", on_console)
        return page

    yield make
    for context in contexts:
        context.close()
    problems = []
    if external:
        problems.append("no external requests, but the pages asked for:\n  " + "\n  ".join(external))
    if csp_violations:
        problems.append("CSP violations:\n  " + "\n  ".join(csp_violations))
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.fixture(scope="session")
def axe_source() -> str:
    return AXE.read_text(encoding="utf-8")


@pytest.fixture
def axe_violations(axe_source):
    """`axe_violations(page)` → the serious and critical axe-core violations on the
    page as it is now, as short dicts (rule id, impact, help, failing elements).

    axe is evaluated through the DevTools protocol, which the page's CSP (no inline
    scripts) does not block; nothing is added to the page's own resources."""

    def check(page) -> list[dict]:
        if not page.evaluate("typeof window.axe !== 'undefined'"):
            page.evaluate(f"() => {{ {axe_source}\n }}")
        results = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
        return [
            {
                "id": v["id"],
                "impact": v["impact"],
                "help": v["help"],
                "targets": [", ".join(map(str, n["target"])) for n in v["nodes"]][:5],
            }
            for v in results["violations"]
            if v["impact"] in ("serious", "critical")
        ]

    return check
