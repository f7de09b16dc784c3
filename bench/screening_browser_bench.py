"""Screening speed in a real browser: from a reviewer's keypress to the next record on screen.

    .venv/bin/python bench/screening_browser_bench.py                 # SQLite (a temp file)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/reviewapp_bench \
        .venv/bin/python bench/screening_browser_bench.py

Sets up a review of --records records through the import pipeline (titles and 150-word
abstracts drawn from the import bench's vocabulary), the lead's criteria, 20 highlight terms
and 6 exclusion reasons, and a reviewer with 5 terms of their own. Starts `manage.py runserver
--noreload` on a free localhost port with the same settings, signs the reviewer in with
Playwright in headless Chromium (the launch flags of tests/browser/conftest.py), opens the
title/abstract workspace and presses i/e/m keys for --warmup + --decisions records.

Each time is measured in the page: from the keydown event's timestamp to the "record:shown"
event screen.js dispatches once the next record's fragment is in the DOM and its heading has
focus. The warm-up presses (first templates compiled, first connections) are not counted.
Between a record appearing and the next key press the reviewer reads for --think-ms (default
500 ms, a very fast screener): while they read, screen.js fetches the record after this one,
and the key press shows it at once while the decision goes to the server in the background.
--think-ms 0 presses keys back to back (the prefetch is then often still on its way), and
--no-prefetch switches prefetching off, so that every key press waits for the decide request.
Also printed: the decide request's own time (fetch start to response end, Resource Timing).

Last line: keypress_p50_ms=X keypress_p95_ms=Y (target: p95 < 100 ms).
"""

import argparse
import math
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "bench-password-not-secret"
REVIEWER = "bench.reviewer@example.org"
SLUG = "screening-bench"
KEYS = "eeieemeeie"  # mostly excludes, as in real title/abstract screening

RECORDER = """
() => {
  window.__bench = { start: 0, times: [], focused: [] };
  document.addEventListener("keydown", (event) => { window.__bench.start = event.timeStamp; },
                            true);
  document.addEventListener("record:shown", () => {
    window.__bench.times.push(performance.now() - window.__bench.start);
    window.__bench.focused.push(document.activeElement && document.activeElement.id);
  });
}
"""


NO_PREFETCH = "() => { document.getElementById('screen-workspace').dataset.prefetch = 'off'; }"
# A promise that settles at the next "record:shown"; awaiting it paces the key presses.
ARM = """
() => {
  window.__shown = new Promise((resolve) => {
    document.addEventListener("record:shown", resolve, { once: true });
  });
}
"""


def configure(tmp):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reviewapp.settings.local")
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{tmp}/screening-bench.sqlite3")
    os.environ.setdefault("MEDIA_ROOT", str(Path(tmp) / "media"))
    import django

    django.setup()


def ris(records, seed=7):
    from import_bench import WORDS

    rng = random.Random(seed)
    lines = []
    for n in range(records):
        title = " ".join(rng.choice(WORDS) for _ in range(12)).capitalize() + f" {n}"
        abstract = " ".join(rng.choice(WORDS) for _ in range(150))
        lines += ["TY  - JOUR", f"TI  - {title}", f"AB  - {abstract}", f"PY  - {2000 + n % 24}"]
        lines += [f"AU  - {rng.choice(WORDS).capitalize()}, {rng.choice('ABCDEFG')}."]
        lines += [f"JO  - Journal of {rng.choice(WORDS).capitalize()}", f"DO  - 10.9999/sb.{n}"]
        lines += [f"KW  - {rng.choice(WORDS)}" for _ in range(3)]
        lines += ["ER  - ", ""]
    return "\n".join(lines).encode("utf-8")


def build(records):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command

    from reviewapp.accounts import ensure_user
    from reviewapp.models import Membership, Review, Role
    from reviewapp.services import create_review
    from screening.decisions import config_for
    from screening.importing import run_import
    from screening.models import ExclusionReason, HighlightTerm, RecordStage
    from screening.services import create_import_batch

    call_command("migrate", verbosity=0)
    Review.objects.filter(slug=SLUG).delete()
    lead, _ = ensure_user("bench.lead@example.org", name="Bench Lead", password=PASSWORD)
    reviewer, _ = ensure_user(REVIEWER, name="Bench Reviewer", password=PASSWORD)
    review = create_review(user=lead, title="Screening bench", slug=SLUG)
    Membership.objects.create(review=review, user=reviewer, role=Role.REVIEWER)
    upload = SimpleUploadedFile("bench.ris", ris(records))
    batch, _ = create_import_batch(review=review, user=lead, upload=upload, source="Bench",
                                   kind="database", run=False)  # fmt: skip
    batch = run_import(batch)
    if batch.status != "done":
        raise SystemExit(batch.error)
    config = config_for(review)
    config.eligibility_criteria = "\n".join(
        f"{n}. Criterion about care, support and harm in community settings." for n in range(8)
    )
    config.save()
    from import_bench import BASE_WORDS

    for n, word in enumerate(BASE_WORDS[:20]):
        kind = "include" if n % 2 else "exclude"
        HighlightTerm.objects.create(review=review, term=word + ("*" if n % 3 else ""), kind=kind)
    for word in BASE_WORDS[20:25]:
        HighlightTerm.objects.create(review=review, user=reviewer, term=word, kind="include")
    for n in range(6):
        ExclusionReason.objects.create(review=review, text=f"Reason {n}", position=n)
    return RecordStage.objects.filter(review=review, stage="ta").count()


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(port, log):
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"runserver exited with {server.returncode}; see {log.name}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("runserver did not start within 30 s")


def chromium_path():
    path = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if os.path.isfile(path) and os.access(path, os.X_OK):
        return path
    return shutil.which(path)


def percentile(values, fraction):
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def drive(base_url, warmup, decisions, think_ms, prefetch):
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM_ARGS

    executable = chromium_path()
    if not executable:
        raise SystemExit("Chromium not found: install Debian's chromium or set CHROMIUM_PATH.")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(base_url=base_url, locale="en-GB").new_page()
            page.goto("/accounts/login/")
            page.get_by_label("Email").fill(REVIEWER)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign In").click()
            page.wait_for_url(base_url + "/")
            page.goto(f"/reviews/{SLUG}/screening/ta/")
            page.wait_for_selector("#record-heading")
            page.evaluate(RECORDER)
            page.evaluate("window.__marker = 'same page'")
            if not prefetch:
                page.evaluate(NO_PREFETCH)
            for n in range(warmup + decisions):
                page.wait_for_timeout(think_ms)
                # (wait_for_function would eval a string, which the page's CSP forbids.)
                page.evaluate(ARM)
                page.keyboard.press(KEYS[n % len(KEYS)])
                page.evaluate("() => window.__shown")
            result = page.evaluate(
                """() => ({
                  times: window.__bench.times,
                  focused: window.__bench.focused,
                  marker: window.__marker,
                  requests: performance.getEntriesByType("resource")
                    .filter((e) => e.name.includes("/decide/"))
                    .map((e) => e.responseEnd - e.startTime),
                })"""
            )
        finally:
            browser.close()
    if result["marker"] != "same page":
        raise SystemExit("The page reloaded: the workspace did not swap the record in place.")
    if any(element != "record-heading" for element in result["focused"]):
        raise SystemExit(f"Focus was not on the record heading: {result['focused']}")
    return result["times"][warmup:], result["requests"][warmup:]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=500)
    parser.add_argument("--decisions", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--think-ms", type=int, default=500)
    parser.add_argument("--no-prefetch", action="store_true")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="screening-bench-")
    server, finished = None, False
    try:
        configure(tmp)
        from django.db import connection

        pool = build(args.records)
        vendor = connection.vendor
        connection.close()
        print(f"review with {pool} records at title/abstract ({vendor})")
        port = free_port()
        with open(Path(tmp) / "runserver.log", "w") as log:
            server = start_server(port, log)
            times, requests = drive(
                f"http://127.0.0.1:{port}",
                args.warmup,
                args.decisions,
                args.think_ms,
                prefetch=not args.no_prefetch,
            )
            from screening.models import Decision

            # The last decision may still be on its way when the browser closes.
            stored = Decision.objects.filter(review__slug=SLUG)
            deadline = time.monotonic() + 10
            while stored.count() < args.warmup + args.decisions and time.monotonic() < deadline:
                time.sleep(0.1)
        decided = stored.count()
        assert decided == args.warmup + args.decisions, decided
        print(
            f"{len(times)} decisions timed after {args.warmup} warm-up, "
            f"{args.think_ms} ms reading each, prefetch {'off' if args.no_prefetch else 'on'}; "
            f"{decided} stored"
        )
        print(
            f"keypress to record shown: min {min(times):.1f} ms, "
            f"p50 {percentile(times, 0.5):.1f} ms, p95 {percentile(times, 0.95):.1f} ms, "
            f"max {max(times):.1f} ms"
        )
        print(
            f"decide request (network + server): p50 {percentile(requests, 0.5):.1f} ms, "
            f"p95 {percentile(requests, 0.95):.1f} ms"
        )
        print(
            f"keypress_p50_ms={percentile(times, 0.5):.1f} "
            f"keypress_p95_ms={percentile(times, 0.95):.1f}"
        )
        finished = True
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        if finished:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"left {tmp} (database, runserver.log) for a look", file=sys.stderr)


if __name__ == "__main__":
    main()
