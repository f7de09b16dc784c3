"""Import benchmark: a generated 100,000-record RIS file, imported in full (parse, normalise,
deduplicate, store) and parsed bare with rispy, each in its own process so their peak
memory is measured separately.

    .venv/bin/python bench/import_bench.py [--records 100000]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/reviewapp_bench \
        .venv/bin/python bench/import_bench.py

Each phase runs --repeat times (default 3), alternating, and the best time of each counts
(as timeit does): on a shared machine the slowest runs measure the neighbours.

Last line: records=N import_s=X parse_s=Y ratio=X/Y peak_mb=M db=postgresql|sqlite
"""

import argparse
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASE_WORDS = (
    "harm care social mental health service users practitioners support assessment budget "
    "risk safeguarding community housing discharge planning trust power choice involvement "
    "family crisis recovery advocacy stigma distress carers policy"
).split()
SYLLABLES = "ba be co da di fe ga hi ka lo ma ne po ra si ta vu we xo ze lin mar tor ven".split()
# Real titles draw on thousands of words; a few dozen would make every title look alike.
WORDS = BASE_WORDS + sorted(
    {a + b + c for a in SYLLABLES for b in SYLLABLES for c in ("", "n", "s", "t", "ment")}
)


def generate(path, records, seed=1):
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as out:
        for n in range(records):
            # About 5% of entries repeat an earlier work (as a second database would).
            m = rng.randrange(n) if n and rng.random() < 0.05 else n
            work = random.Random(m)
            title = " ".join(work.choice(WORDS) for _ in range(12)).capitalize() + f" {m}"
            abstract = " ".join(work.choice(WORDS) for _ in range(150))
            out.write("TY  - JOUR\n")
            for _ in range(3):
                out.write(f"AU  - {work.choice(WORDS).capitalize()}, {work.choice('ABCDEFG')}.\n")
            out.write(f"TI  - {title}\nAB  - {abstract}\nPY  - {2000 + m % 24}\n")
            out.write(f"JO  - Journal of {work.choice(WORDS).capitalize()}\n")
            out.write(f"VL  - {m % 60}\nIS  - {m % 12}\nSP  - {m % 900}\nEP  - {m % 900 + 12}\n")
            if work.random() < 0.8:
                out.write(f"DO  - 10.9999/bench.{m}\n")
            for _ in range(3):
                out.write(f"KW  - {work.choice(WORDS)}\n")
            out.write("ER  - \n\n")


def peak_mb():
    """This process's peak RSS plus the largest of its finished children's (the import's
    worker process, which reads the file): an upper bound of their peak together."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return (own + children) / 1024


def phase_parse(path):
    import rispy

    start = time.perf_counter()
    with open(path, encoding="utf-8") as handle:
        entries = rispy.load(handle)
    elapsed = time.perf_counter() - start
    print(f"parse {len(entries)} {elapsed:.3f} {peak_mb():.0f}")


def phase_import(path):
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reviewapp.settings.local")
    if "DATABASE_URL" not in os.environ:
        os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.gettempdir()}/reviewapp-bench.sqlite3"
    import django

    django.setup()
    from django.core.files import File
    from django.core.management import call_command
    from django.db import connection

    from reviewapp.accounts import ensure_user
    from reviewapp.models import Review
    from reviewapp.services import create_review
    from screening.importing import run_import
    from screening.services import create_import_batch

    call_command("migrate", verbosity=0)
    Review.objects.filter(slug="import-bench").delete()
    # Earlier runs' records were deleted: their dead rows (PostgreSQL, where autovacuum may
    # be off, as it is on the development machine) or free pages (SQLite) would otherwise
    # slow every index this import writes to.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "VACUUM")
    user, _ = ensure_user("bench@example.org")
    review = create_review(user=user, title="Import bench", slug="import-bench")
    with open(path, "rb") as handle:
        batch, _ = create_import_batch(
            review=review,
            user=user,
            upload=File(handle, "bench.ris"),
            source="Bench",
            kind="database",
            run=False,
        )
    start = time.perf_counter()
    batch = run_import(batch)
    elapsed = time.perf_counter() - start
    if batch.status != "done":
        raise SystemExit(batch.error)
    print(
        f"import {batch.records_added} {elapsed:.3f} {peak_mb():.0f} {connection.vendor} "
        f"{batch.duplicates_merged} {batch.pairs_queued}"
    )
    batch.file.delete(save=False)  # a copy of the 125 MB file, stored as uploads are
    review.delete()


def run_phase(name, path):
    result = subprocess.run(
        [sys.executable, __file__, "--phase", name, str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(result.stderr)
    return result.stdout.strip().splitlines()[-1].split()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of each phase, alternating; the best counts"
    )
    parser.add_argument("--phase", choices=["parse", "import"])
    parser.add_argument("path", nargs="?")
    args = parser.parse_args()
    if args.phase == "parse":
        return phase_parse(args.path)
    if args.phase == "import":
        return phase_import(args.path)
    imports, parses = [], []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.ris"
        generate(path, args.records)
        print(f"generated {args.records} records, {path.stat().st_size / 1048576:.0f} MB")
        # Alternating, so that a slow spell of a shared machine slows both alike.
        for run in range(1, args.repeat + 1):
            imports.append(run_phase("import", path))
            parses.append(run_phase("parse", path))
            print(f"run {run}: import {imports[-1][2]}s, bare parse {parses[-1][2]}s")
    _, n_import, import_s, import_mb, vendor, merged, queued = min(
        imports, key=lambda r: float(r[2])
    )
    _, n_parse, parse_s, parse_mb = min(parses, key=lambda r: float(r[2]))
    print(
        f"import: {n_import} records in {import_s}s, {merged} merged, {queued} queued, "
        f"peak {import_mb} MB; bare rispy parse: {n_parse} entries in {parse_s}s, "
        f"peak {parse_mb} MB (best of {args.repeat})"
    )
    ratio = float(import_s) / float(parse_s)
    print(
        f"records={n_import} import_s={float(import_s):.2f} parse_s={float(parse_s):.2f} "
        f"ratio={ratio:.2f} peak_mb={import_mb} db={vendor}"
    )


if __name__ == "__main__":
    main()
