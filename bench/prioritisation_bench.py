"""Prioritisation benchmark: work saved on the shared labelled reviews, and retrain time.

    .venv/bin/python bench/prioritisation_bench.py [--seeds 5 --retrain-every 1]

For each ../shared/data/screening/*.csv, simulates screening (screening.prioritisation,
the code manage.py simulate_screening runs) from seeds 0..N-1 and prints WSS@95, recall at
10% screened, records screened to 95% and 100% of includes, and seconds, then each dataset's
mean against ASReview LAB 3.0.8's default model (ELAS u4) measured on the same data.

Timing: the shared records replicated to 10,000, 2,000 of them labelled, one retrain +
re-rank (model.rank on the feature matrix, as a simulation does between records), median
and range of several runs; and the features (vectorize) the app computes once per ranking.

Last line: smid_wss95=A kitchenham_wss95=B retrain_ms_10k=C ('na' for what was missing).
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from screening.prioritisation import (  # noqa: E402
    load_labelled_csv,
    rank,
    simulate,
    vectorize,
)

DATA = ROOT.parent / "shared" / "data" / "screening"
# WSS@95 of ASReview LAB 3.0.8's default model, mean of seeds 0-4 (from the issue).
ASREVIEW_WSS95 = {"Smid_2020": 0.837, "Kitchenham_2010": 0.674}
POOL_RECORDS = 10_000
POOL_LABELS = 2_000
TIMING_RUNS = 7


def run_datasets(paths, seeds, retrain_every):
    """{dataset name: mean WSS@95}, printing a row per seed and a mean per dataset."""
    print(
        f"{'dataset':18} {'seed':>4} {'wss95':>7} {'recall10':>8} {'scr95':>6} "
        f"{'scr100':>6} {'seconds':>7}"
    )
    means = {}
    for path in paths:
        dataset = load_labelled_csv(path)
        results = []
        for seed in seeds:
            result = simulate(
                dataset.records, dataset.labels, seed=seed, retrain_every=retrain_every
            )
            results.append(result)
            print(
                f"{path.stem:18} {seed:>4} {result.wss95:>7.3f} {result.recall10:>8.3f} "
                f"{result.screened95:>6} {result.screened100:>6} {result.seconds:>7.1f}",
                flush=True,
            )
        wss = [r.wss95 for r in results]
        means[path.stem] = statistics.mean(wss)
        versus = ""
        if path.stem in ASREVIEW_WSS95:
            reference = ASREVIEW_WSS95[path.stem]
            versus = f" (ASReview {reference:.3f}, {means[path.stem] - reference:+.3f})"
        print(
            f"{path.stem:18} mean wss95={means[path.stem]:.3f}{versus} "
            f"[{min(wss):.3f}-{max(wss):.3f}] "
            f"recall10={statistics.mean(r.recall10 for r in results):.3f} "
            f"screened95={statistics.mean(r.screened95 for r in results):.0f} "
            f"seconds={statistics.mean(r.seconds for r in results):.1f}",
            flush=True,
        )
    return means


def time_retrain(paths):
    """Median milliseconds of one retrain + re-rank at POOL_RECORDS records, POOL_LABELS
    labelled; prints the range and the time to compute the features."""
    records, labels = [], []
    for path in paths:
        dataset = load_labelled_csv(path)
        records += dataset.records
        labels += dataset.labels.tolist()
    # Copies of the shared records: a larger review's vocabulary would be larger still, so
    # this understates the feature matrix's width, not the number of rows the model scores.
    copies = -(-POOL_RECORDS // len(records))
    records = (records * copies)[:POOL_RECORDS]
    labels = np.array((labels * copies)[:POOL_RECORDS])
    started = time.perf_counter()
    matrix = vectorize(records)
    features_s = time.perf_counter() - started
    rng = np.random.default_rng(0)
    rows = rng.choice(POOL_RECORDS, size=POOL_LABELS, replace=False)
    known = {int(row): int(labels[row]) for row in rows}
    timings = []
    for _ in range(TIMING_RUNS):
        started = time.perf_counter()
        rank(matrix, known)
        timings.append((time.perf_counter() - started) * 1000)
    median = statistics.median(timings)
    print(
        f"retrain + re-rank at {POOL_RECORDS} records ({matrix.shape[1]} features), "
        f"{POOL_LABELS} labelled ({sum(known.values())} included): median {median:.0f} ms "
        f"[{min(timings):.0f}-{max(timings):.0f}] over {TIMING_RUNS} runs; "
        f"features (once per ranking) {features_s:.1f} s",
        flush=True,
    )
    return median


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=5, help="seeds 0..N-1 (default 5)")
    parser.add_argument("--retrain-every", type=int, default=1)
    args = parser.parse_args()

    paths = sorted(DATA.glob("*.csv")) if DATA.is_dir() else []
    if not paths:
        print(f"skipped: no labelled datasets in {DATA} (it exists on the team's machines)")
    means = run_datasets(paths, range(args.seeds), args.retrain_every)
    retrain_ms = time_retrain(paths) if paths else None

    def figure(value, digits):
        return "na" if value is None else f"{value:.{digits}f}"

    print(
        f"smid_wss95={figure(means.get('Smid_2020'), 3)} "
        f"kitchenham_wss95={figure(means.get('Kitchenham_2010'), 3)} "
        f"retrain_ms_10k={figure(retrain_ms, 0)}"
    )


if __name__ == "__main__":
    main()
