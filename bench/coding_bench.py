"""Coding server-time benchmark: a 200,000-character document with 2,000 excerpts (two
coders, overlapping passages, up to three codes each), timed through the real views with
Django's test client, in-process:

- open_ms: the document page (text, highlight layer, code panel, excerpt list), p50 of
  --rounds requests;
- theme_page_ms: a theme's page listing its excerpts across studies, 50 per page, p50.

    .venv/bin/python bench/coding_bench.py                    # SQLite (a file in /tmp)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/reviewapp_bench \\
        .venv/bin/python bench/coding_bench.py

Last line: chars=N excerpts=M open_ms=X theme_page_ms=Y (targets: 300 and 100).
"""

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORDS = (
    "service users described care planning support practitioners assessment risk harm "
    "community housing discharge trust power choice involvement family crisis recovery "
    "advocacy stigma distress carers policy budget safeguarding waiting staff 😀 𠀋 café"
).split()


def setup_django():
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reviewapp.settings.local")
    os.environ.setdefault("DEBUG", "false")
    if "DATABASE_URL" not in os.environ:
        os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.gettempdir()}/reviewapp-cbench.sqlite3"
    import django

    django.setup()
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["*"]
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def build(chars, excerpts, studies=20):
    from django.db import transaction

    from coding.codebook import create_code
    from coding.documents import add_document
    from coding.models import Excerpt, ExcerptCode
    from reviewapp.accounts import ensure_user
    from reviewapp.models import Membership, Review, Role
    from reviewapp.services import create_review
    from screening.models import Study

    rng = random.Random(3)
    Review.objects.filter(slug="coding-bench").delete()
    lead, _ = ensure_user("lead-coding-bench@example.org")
    other, _ = ensure_user("coder-coding-bench@example.org")
    review = create_review(user=lead, title="Coding bench", slug="coding-bench")
    Membership.objects.create(review=review, user=other, role=Role.REVIEWER)
    themes = [create_code(review=review, user=lead, name=f"Theme {n}") for n in range(6)]
    codes = [
        create_code(review=review, user=lead, name=f"Code {t.pk}.{n}", parent=t)
        for t in themes
        for n in range(3)
    ]
    words, size = [], 0
    while size < chars:
        word = rng.choice(WORDS)
        words.append(word)
        size += len(word) + 1
    text = " ".join(words)[:chars]
    with transaction.atomic():
        study_objs = [
            Study.objects.create(review=review, label=f"Study {n}") for n in range(studies)
        ]
        document = add_document(study=study_objs[0], title="Big document", text=text,
                                source="paste", user=lead)  # fmt: skip
        version = document.versions.get()
        # The other studies' documents share the theme page with the big one.
        small = [
            add_document(study=s, title=f"Findings {s.label}", text=text[:5000], source="paste",
                         user=lead).versions.get()
            for s in study_objs[1:]
        ]  # fmt: skip
        rows = []
        for n in range(excerpts):
            start = rng.randrange(0, len(text) - 400)
            end = start + rng.randrange(20, 400)
            rows.append(Excerpt(version=version, review=review, document=document,
                                coder=lead if n % 2 else other, start=start, end=end,
                                text=text[start:end]))  # fmt: skip
        for n in range(excerpts // 4):
            v = small[n % len(small)]
            start = rng.randrange(0, 4000)
            rows.append(
                Excerpt(
                    version=v,
                    review=review,
                    document_id=v.document_id,
                    coder=lead,
                    start=start,
                    end=start + 200,
                    text=text[start : start + 200],
                )
            )
        Excerpt.objects.bulk_create(rows, batch_size=1000)
        links = []
        for excerpt in Excerpt.objects.filter(review=review).only("pk"):
            for code in rng.sample(codes, k=rng.randint(1, 3)):
                links.append(ExcerptCode(excerpt_id=excerpt.pk, code=code))
        ExcerptCode.objects.bulk_create(links, batch_size=2000)
    return review, lead, document, themes[0]


def timed(client, url, rounds):
    client.get(url)  # warm up: templates compiled, session loaded
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
    return statistics.median(times), max(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--chars", type=int, default=200_000)
    parser.add_argument("--excerpts", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    setup_django()
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    review, lead, document, theme = build(args.chars, args.excerpts)
    client = Client()
    client.force_login(lead)
    open_p50, open_max = timed(client, reverse("document", args=[review.slug, document.pk]),
                               args.rounds)  # fmt: skip
    theme_url = reverse("code_detail", args=[review.slug, theme.pk])
    theme_p50, theme_max = timed(client, theme_url, args.rounds)
    body = client.get(theme_url).content.decode()
    shown = body.count('<blockquote class="quote">')
    print(
        f"document page: p50 {open_p50:.0f} ms, max {open_max:.0f} ms; theme page "
        f"({shown} excerpt cards): p50 {theme_p50:.0f} ms, max {theme_max:.0f} ms; "
        f"db={connection.vendor}"
    )
    review.delete()
    print(
        f"chars={args.chars} excerpts={args.excerpts} open_ms={open_p50:.0f} "
        f"theme_page_ms={theme_p50:.0f}"
    )


if __name__ == "__main__":
    main()
