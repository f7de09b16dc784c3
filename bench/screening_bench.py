"""Screening server-time benchmark: "record a decision and fetch my next record" through the
real views (Django's test client, in-process), on a review of 100,000 records with 5
reviewers and thousands of decisions already made, and the SQL queries per request at
1,000 and at 100,000 records.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/reviewapp_bench \\
        .venv/bin/python bench/screening_bench.py
    .venv/bin/python bench/screening_bench.py            # SQLite (a file in /tmp)

Last line: p50_ms=X p95_ms=Y queries_1k=A queries_100k=B db=postgresql|sqlite
"""

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DECIDE_RE = re.compile(r"/screening/ta/(\d+)/decide/")


def setup_django():
    sys.path.insert(0, str(ROOT))
    # The embedded settings, as a deployment would run (progress counts cached), without
    # DEBUG's bookkeeping.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reviewapp.settings.local")
    os.environ.setdefault("DEBUG", "false")
    if "DATABASE_URL" not in os.environ:
        os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.gettempdir()}/reviewapp-sbench.sqlite3"
    import django

    django.setup()
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["*"]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def build_review(slug, n_records, decided_by_each):
    """A review with n_records kept records in title/abstract screening, 5 reviewers, and
    `decided_by_each` decisions by each (pairs of reviewers settle some, others await)."""
    from django.db import transaction

    from reviewapp.accounts import ensure_user
    from reviewapp.models import Membership, Review, Role
    from reviewapp.services import create_review
    from screening.models import Decision, ImportBatch, Record, RecordStage
    from screening.models.decisions import StageStatus
    from screening.pool import random_order_key

    Review.objects.filter(slug=slug).delete()
    lead, _ = ensure_user(f"lead-{slug}@example.org", password="bench-password-1")
    review = create_review(user=lead, title=slug, slug=slug)
    reviewers = []
    for i in range(5):
        user, _ = ensure_user(f"r{i}-{slug}@example.org", password="bench-password-1")
        Membership.objects.create(review=review, user=user, role=Role.REVIEWER)
        reviewers.append(user)
    with transaction.atomic():
        batch = ImportBatch.objects.create(
            review=review, source="Bench", file_name="b.ris", status="done", file="bench/none"
        )
        records = [
            Record(review=review, batch=batch, position=n + 1, title=f"Bench record {n} on "
                   "social care and avoidable harm", abstract="Service users described "
                   "their experiences of care planning. " * 20, authors=["Bench, A."],
                   year=2000 + n % 24, journal="Journal of Benchmarks")
            for n in range(n_records)
        ]  # fmt: skip
        Record.objects.bulk_create(records, batch_size=5000)
        ids = list(Record.objects.filter(review=review).order_by("id")
                   .values_list("id", flat=True))  # fmt: skip
        order = sorted(ids, key=random_order_key)
        stages, decisions = [], []
        # Reviewers work in pairs along the queue: (0,1) settled the first block, 0 alone
        # went ahead on the next (awaiting a second reviewer), (2,3) and 4 elsewhere.
        plan = {}
        for pos, rid in enumerate(order[:decided_by_each]):
            plan[rid] = [0, 1] if pos < decided_by_each // 2 else [0]
        for pos, rid in enumerate(order[decided_by_each : 2 * decided_by_each]):
            plan[rid] = [2, 3] if pos % 2 else [4]
        for rid in ids:
            who = plan.get(rid, [])
            status = (StageStatus.AWAITING if not who else StageStatus.AWAITING_MORE
                      if len(who) == 1 else StageStatus.EXCLUDED)  # fmt: skip
            stages.append(
                RecordStage(
                    review=review,
                    record_id=rid,
                    stage="ta",
                    status=status,
                    decision_count=len(who),
                    order_key=random_order_key(rid),
                )
            )
            decisions.extend(
                Decision(
                    review=review, record_id=rid, stage="ta", reviewer=reviewers[i], value="exclude"
                )
                for i in who
            )
        RecordStage.objects.bulk_create(stages, batch_size=5000)
        Decision.objects.bulk_create(decisions, batch_size=5000)
    from django.db import connection

    if connection.vendor == "postgresql":
        # Fresh statistics and no dead rows, as autovacuum would give a live database after a
        # bulk load. Without VACUUM the previous run's review, deleted above, lingers as dead
        # index entries that the planner wades through whenever it costs a join on these
        # tables (autovacuum may be off on a benchmarking server): milliseconds a query.
        with connection.cursor() as cursor:
            cursor.execute(
                "VACUUM ANALYZE screening_record, screening_recordstage, screening_decision"
            )
    return review, reviewers


def measure(review, user, rounds):
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    client = Client()
    client.force_login(user)
    page = client.get(reverse("screen", args=[review.slug]))
    record_id = int(DECIDE_RE.search(page.content.decode()).group(1))
    times, queries = [], []
    for n in range(rounds):
        url = reverse("screen_decide", args=[review.slug, record_id])
        data = {"value": "exclude" if n % 3 else "include", "note": "", "version": "0"}
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            response = client.post(url, data, headers={"X-Requested-With": "fetch"})
            times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.status_code
        queries.append(len(ctx.captured_queries))
        match = DECIDE_RE.search(response.content.decode())
        if match is None:
            break
        record_id = int(match.group(1))
    return times, queries


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument(
        "--decided", type=int, default=5_000, help="decisions each active reviewer has already made"
    )
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    setup_django()
    from django.db import connection

    small, small_reviewers = build_review("sbench-1k", 1_000, 200)
    _, queries_small = measure(small, small_reviewers[0], 20)
    start = time.perf_counter()
    big, big_reviewers = build_review("sbench-100k", args.records, args.decided)
    print(f"built {args.records} records and their decisions in {time.perf_counter() - start:.1f}s")
    times, queries_big = measure(big, big_reviewers[0], args.rounds)
    steady = times[5:] or times  # the first requests warm caches and connections
    print(
        f"{len(times)} decide+next requests: mean {statistics.mean(steady):.1f} ms; "
        f"queries per request: {sorted(set(queries_big))} (1k review: "
        f"{sorted(set(queries_small))})"
    )
    print(
        f"p50_ms={percentile(steady, 0.5):.1f} p95_ms={percentile(steady, 0.95):.1f} "
        f"queries_1k={max(queries_small)} queries_100k={max(queries_big)} "
        f"db={connection.vendor}"
    )


if __name__ == "__main__":
    main()
