"""Export benchmark: the full review archive and the screening CSV of a 100,000-record review
(5 reviewers, thousands of decisions: the review bench/screening_bench.py builds), each
written by the real writers in its own process so peak memory is measured separately.

    .venv/bin/python bench/export_bench.py                   # SQLite (a file in /tmp)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/reviewapp_bench \\
        .venv/bin/python bench/export_bench.py

Last line: records=N archive_s=X screening_csv_s=Y peak_mb=M (M: the larger of the two
export processes' peak RSS).
"""

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

SLUG = "export-bench"


def peak_mb():
    """This process's peak RSS. VmHWM, not getrusage: Linux carries ru_maxrss over from the
    parent across exec, and the parent holds the 100,000 records it just built."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def phase_export(format_name):
    import screening_bench

    screening_bench.setup_django()
    from exports.jobs import write_export
    from reviewapp.models import Review

    review = Review.objects.get(slug=SLUG)
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        write_export(review, format_name, out)
        elapsed = time.perf_counter() - start
        size = out.tell()
    print(f"export {format_name} {elapsed:.3f} {peak_mb():.0f} {size}")


def run_phase(format_name):
    command = [sys.executable, __file__, "--phase", format_name]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(result.stderr)
    _, _, seconds, mb, size = result.stdout.strip().splitlines()[-1].split()
    return float(seconds), float(mb), int(size)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--decided", type=int, default=5_000)
    parser.add_argument("--phase")
    args = parser.parse_args()
    if args.phase:
        return phase_export(args.phase)
    import screening_bench

    screening_bench.setup_django()
    start = time.perf_counter()
    screening_bench.build_review(SLUG, args.records, args.decided)
    print(f"built {args.records} records in {time.perf_counter() - start:.1f}s")
    archive_s, archive_mb, archive_size = run_phase("archive")
    csv_s, csv_mb, csv_size = run_phase("screening-csv")
    print(f"archive: {archive_size / 1048576:.1f} MB in {archive_s:.1f}s, peak {archive_mb:.0f} "
          f"MB; screening CSV: {csv_size / 1048576:.1f} MB in {csv_s:.1f}s, peak "
          f"{csv_mb:.0f} MB")  # fmt: skip
    from reviewapp.models import Review

    Review.objects.filter(slug=SLUG).delete()
    print(f"records={args.records} archive_s={archive_s:.1f} screening_csv_s={csv_s:.1f} "
          f"peak_mb={max(archive_mb, csv_mb):.0f}")  # fmt: skip


if __name__ == "__main__":
    main()
