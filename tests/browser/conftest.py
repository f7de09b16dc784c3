"""Fixtures for the browser tests: headless Debian Chromium driven by Playwright, against
pytest-django's live_server, with axe-core checking each page visited.

Playwright's sync API runs an asyncio event loop in the test thread, which makes Django
refuse ORM calls from it ("You cannot call this from an async context"). The tests only
touch the ORM between browser steps, never concurrently with them, so the `browser`
fixture switches that guard off (DJANGO_ALLOW_ASYNC_UNSAFE) before any test here touches the
ORM. It is package-scoped and puts the variable back afterwards: left set, it would leak into
the rest of the session, and `manage.py check --deploy` run by other tests fails on it.
"""

import os
import shutil

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect, sync_playwright

ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Impacts that fail a test; "minor" and "moderate" findings are left to review by hand.
BLOCKING_IMPACTS = {"serious", "critical"}
# Auto-waiting assertions (expect) give up after this many milliseconds.
EXPECT_TIMEOUT_MS = 5_000

expect.set_options(timeout=EXPECT_TIMEOUT_MS)


def _chromium_path():
    path = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if os.path.isfile(path) and os.access(path, os.X_OK):
        return path
    return shutil.which(path)


@pytest.fixture(scope="package")
def browser():
    """One headless Chromium for all the tests in this package."""
    executable = _chromium_path()
    if not executable:
        pytest.skip(
            "Chromium not found: install Debian's `chromium` package or set CHROMIUM_PATH "
            "(Playwright cannot download its own browsers here)."
        )
    previous = os.environ.get(ASYNC_UNSAFE)
    os.environ[ASYNC_UNSAFE] = "true"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=executable, headless=True, args=CHROMIUM_ARGS
            )
            try:
                yield browser
            finally:
                browser.close()
    finally:
        if previous is None:
            os.environ.pop(ASYNC_UNSAFE, None)
        else:
            os.environ[ASYNC_UNSAFE] = previous


class PageProblems:
    """Uncaught script errors and Content-Security-Policy violations seen by a page."""

    def __init__(self, page):
        self.errors = []
        page.on("pageerror", lambda exc: self.errors.append(f"uncaught error: {exc}"))
        page.on("console", self._on_console)

    def _on_console(self, message):
        if message.type == "error" and "Content Security Policy" in message.text:
            self.errors.append(f"CSP violation: {message.text}")


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context (no cookies) for each test, with its base URL at live_server.

    The context does not bypass the site's Content-Security-Policy: axe is injected through
    the DevTools protocol (page.evaluate), which CSP does not govern, so the tests also
    prove that the pages work under the real policy.
    """
    context = browser.new_context(base_url=live_server.url, locale="en-GB")
    context.set_default_timeout(10_000)
    page = context.new_page()
    problems = PageProblems(page)
    yield page
    context.close()
    assert not problems.errors, "The browser reported problems:\n" + "\n".join(problems.errors)


@pytest.fixture(scope="session")
def axe():
    return Axe()


def format_violations(violations):
    """One block per violation: rule id, impact, help text, then each target and its fix."""
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']}  [{v['helpUrl']}]")
        for node in v["nodes"]:
            target = " >>> ".join(str(t) for t in node["target"])
            lines.append(f"    target: {target}")
            lines.append(f"      html: {node['html']}")
            for summary_line in node.get("failureSummary", "").strip().splitlines():
                lines.append(f"      {summary_line.strip()}")
    return "\n".join(lines)


@pytest.fixture
def assert_accessible(axe):
    """assert_accessible(page) runs axe-core on the page as it is now and fails, listing
    each one, on every violation whose impact is serious or critical."""

    def check(page):
        page.wait_for_load_state("load")
        results = axe.run(page)
        blocking = [v for v in results.response["violations"] if v["impact"] in BLOCKING_IMPACTS]
        if blocking:
            pytest.fail(
                f"axe-core found {len(blocking)} serious/critical accessibility violation(s) "
                f"on {page.url}:\n{format_violations(blocking)}",
                pytrace=False,
            )
        return results

    return check


def sign_in(page, email, password=None):
    """Sign in through the real login page and wait for "My reviews"."""
    from tests.factories import PASSWORD

    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password or PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My reviews")
