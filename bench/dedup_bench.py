"""Deduplication benchmark: our engine (screening.dedup) and bib-dedupe on the same records.

    .venv/bin/python bench/dedup_bench.py                       # ASySD diabetes set, both engines
    .venv/bin/python bench/dedup_bench.py --records 100000 --skip-bibdedupe

bib-dedupe is not a dependency of the app. To compare with it, install it into the venv
(`.venv/bin/pip install bib-dedupe`; it brings pandas) or run this script from a separate venv
that has both bib-dedupe and this project's requirements. Without it, its columns read 'na'.

The diabetes set (../shared/data/dedup/asysd_diabetes) is scored against its gold standard with
screening.dedup.engine.accuracy (record-level sensitivity and specificity of automatic merges,
see its docstring); bib-dedupe's "duplicate" pairs are scored the same way and its "maybe" pairs
are its review queue. --records N also builds a synthetic set of N records (below) and times
our engine on it in a child process, so that the peak RSS (resource.getrusage) is the engine's
own: prepare + blocking keys + find_pairs + clusters, records generated on the fly.

Last line: records=N ours_s=X bibdedupe_s=Y ours_sens=A ours_spec=B bd_sens=C bd_spec=D
queue_pairs=Q, for the largest set run ('na' for what was skipped). queue_pairs counts our
pairs scoring >= REVIEW_THRESHOLD that do not merge automatically (below AUTO_MERGE_THRESHOLD,
or vetoed), one per pair of records; the "decisions" printed above group them per pair of
merged groups (screening.dedup.review_queue).
"""

import argparse
import json
import random
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from screening.dedup import (  # noqa: E402
    REVIEW_THRESHOLD,
    PairScore,
    accuracy,
    blocking_keys,
    clusters,
    find_pairs,
    prepare,
)
from screening.dedup.engine import load_benchmark  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "dedup" / "asysd_diabetes"
WORD_RE = re.compile(r"[A-Za-z][a-z]{3,}")
SURNAME_RE = re.compile(r"[A-Z][a-z]+(?:-[A-Z][a-z]+)?")
NUMBER_RE = re.compile(r"\d+")
TYPO_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_ours(records):
    """(seconds, pairs) for prepare + keys + find_pairs + clusters over (id, record) pairs."""
    start = time.perf_counter()
    items = []
    for record_id, record in records:
        fields = prepare(record)
        items.append((record_id, fields, blocking_keys(fields)))
    pairs = find_pairs(items)
    clusters(pairs)
    return time.perf_counter() - start, pairs


# --- synthetic set ---------------------------------------------------------------------------
#
# Each copy ("clone") of the diabetes set keeps its duplicate structure: the records of one gold
# group stay duplicates of each other, with the real differences between databases (markup,
# case, page formats, missing fields). Across clones every work becomes a different work: half
# of the title's and abstract's longer words are replaced (the same way in every record of the
# group), all author surnames are replaced, and year, volume, first page, DOI and PMID change.
# On top, about one work in ten gets a planted near-duplicate: a copy of one of its records with
# a typo in the title, no DOI, and sometimes the year one off or the authors as "Surname, G.".


class Clone:
    def __init__(self, n, vocabulary, surnames, seed):
        self.n = n
        self.rng = random.Random(f"{seed}-{n}")
        self.vocabulary = vocabulary
        self.surnames = surnames
        self.words = {}
        self.names = {}
        self.numbers = {}

    def word(self, match):
        w = match.group(0)
        key = w.lower()
        if key not in self.words:
            self.words[key] = self.rng.choice(self.vocabulary) if self.rng.random() < 0.5 else key
        return self.words[key]

    def name(self, match):
        key = match.group(0)
        if key not in self.names:
            self.names[key] = self.rng.choice(self.surnames)
        return self.names[key]

    def shift(self, kind, value, low, high):
        key = (kind, value)
        if key not in self.numbers:
            self.numbers[key] = self.rng.randint(low, high)
        return self.numbers[key]

    def record(self, record, group, pmids):
        if self.n == 0:
            return dict(record)
        out = dict(record)
        out["title"] = WORD_RE.sub(self.word, record["title"] or "")
        out["abstract"] = WORD_RE.sub(self.word, record["abstract"] or "")
        out["authors"] = SURNAME_RE.sub(self.name, record["authors"] or "")
        year = str(record["year"] or "")
        if year.isdigit():
            out["year"] = str(int(year) + self.shift("year", group, -15, 15))
        for field in ("volume", "pages"):
            text = record[field] or ""
            match = NUMBER_RE.search(text)
            if match:
                new = int(match.group(0)) + self.shift(field, group, 1, 900)
                out[field] = text[: match.start()] + str(new) + text[match.end() :]
        if record["doi"]:
            out["doi"] = record["doi"].strip() + f".c{self.n}"
        if record["pmid"]:
            out["pmid"] = pmids.setdefault((record["pmid"], self.n), str(100_000_000 + len(pmids)))
        return out


def plant(record, rng):
    """A near-duplicate of `record`, as a sloppier database might have it."""
    out = dict(record)
    title = out["title"] or ""
    if len(title) > 20:
        i = rng.randrange(len(title))
        out["title"] = title[:i] + rng.choice(TYPO_LETTERS) + title[i + 1 :]
    out["doi"] = ""
    out["pmid"] = ""
    if rng.random() < 0.3 and str(out["year"]).isdigit():
        out["year"] = str(int(out["year"]) + rng.choice((-1, 1)))
    if rng.random() < 0.3:
        names = re.split(r"(?<=\.)(?=[A-Z])", out["authors"] or "")
        out["authors"] = "; ".join(
            re.sub(r"^(\S+(?: \S+)*?) ((?:[A-Z]\.? ?)+)$", r"\1, \2", n.strip()) for n in names
        )
    return out


def synthetic(records, gold, total, seed=7):
    """Yield (id, record, gold label) for `total` synthetic records built from the set."""
    vocabulary = sorted({w.lower() for _, r in records for w in WORD_RE.findall(r["title"] or "")})
    surnames = sorted(
        {m for _, r in records for m in SURNAME_RE.findall(r["authors"] or "") if len(m) > 2}
    )
    groups = {}
    for record_id, record in records:
        groups.setdefault(gold[record_id], []).append((record_id, record))
    rng = random.Random(seed)
    pmids = {}
    made = 0
    n = 0
    while made < total:
        clone = Clone(n, vocabulary, surnames, seed)
        for label, members in groups.items():
            group = f"{label}@{n}"
            for record_id, record in members:
                if made >= total:
                    return
                yield f"{record_id}@{n}", clone.record(record, label, pmids), group
                made += 1
            if rng.random() < 0.1 and made < total:
                _, record = members[rng.randrange(len(members))]
                yield f"planted-{made}@{n}", plant(clone.record(record, label, pmids), rng), group
                made += 1
        n += 1


def worker(args):
    """Child process: generate, deduplicate and measure the synthetic set; print JSON."""
    records, gold = load_benchmark(args.data)
    synthetic_gold = {}
    elapsed = 0.0
    items = []
    for record_id, record, label in synthetic(records, gold, args.records):
        synthetic_gold[record_id] = label
        start = time.perf_counter()
        fields = prepare(record)
        items.append((record_id, fields, blocking_keys(fields)))
        elapsed += time.perf_counter() - start
    del records
    start = time.perf_counter()
    pairs = find_pairs(items)
    clusters(pairs)
    found = time.perf_counter() - start
    metrics = accuracy(synthetic_gold, pairs)
    total = elapsed + found
    metrics.update(seconds=total, prepare_s=elapsed, find_pairs_s=found, peak_mb=peak_mb())
    print(json.dumps(metrics))


# --- bib-dedupe ------------------------------------------------------------------------------


def bibdedupe_available():
    try:
        import bib_dedupe.bib_dedupe  # noqa: F401
    except ImportError:
        return False
    return True


def run_bibdedupe(csv_path, gold):
    """(seconds, metrics) of bib-dedupe's prep, block, match and cluster on a records CSV."""
    import pandas as pd
    from bib_dedupe import bib_dedupe as bd

    df = pd.read_csv(csv_path)
    start = time.perf_counter()
    prepared = bd.prep(df, verbosity_level=0)
    blocked = bd.block(prepared, verbosity_level=0)
    matched = bd.match(blocked, verbosity_level=0)
    bd.cluster(matched, verbosity_level=0)
    seconds = time.perf_counter() - start
    # Its duplicate pairs merge (score 1) and its maybe pairs are its queue (REVIEW_THRESHOLD),
    # so that accuracy() scores both engines the same way; union-find over its duplicate pairs
    # gives the same groups as its cluster() when, as here, there is no search_set column.
    dup = matched[matched["duplicate_label"] == "duplicate"]
    pairs = [(a, b, PairScore(score=1.0)) for a, b in zip(dup["ID_1"], dup["ID_2"], strict=True)]
    maybe = matched[matched["duplicate_label"] == "maybe"]
    for a, b in zip(maybe["ID_1"], maybe["ID_2"], strict=True):
        pairs.append((a, b, PairScore(score=REVIEW_THRESHOLD)))
    metrics = accuracy(gold, pairs)
    metrics["maybe_pairs"] = len(maybe)
    metrics["duplicate_pairs"] = int((matched["duplicate_label"] == "duplicate").sum())
    return seconds, metrics


def show(name, seconds, m):
    print(
        f"{name:<11} {seconds:7.2f} s  sensitivity {m['sensitivity']:.4f} "
        f"({m['removed']}/{m['duplicates']})  specificity {m['specificity']:.4f} "
        f"({m['works'] - m['works_mixed']}/{m['works']})  auto pairs {m['auto_pairs']} "
        f"(precision {m['pair_precision']:.4f}, recall {m['pair_recall']:.4f})  "
        f"queue {m['queue_pairs']} pairs ({m['queue_duplicate_pairs']} duplicates) / "
        f"{m['queue_decisions']} decisions"
    )


def fmt(value, digits=4):
    return "na" if value is None else f"{value:.{digits}f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--records", type=int, default=0, help="also a synthetic set of N")
    parser.add_argument("--skip-bibdedupe", action="store_true", help="on the synthetic set")
    parser.add_argument("--no-bibdedupe", action="store_true", help="not at all")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return

    if not (args.data / "records_pre_merged.csv").is_file():
        sys.exit(f"{args.data} has no records_pre_merged.csv (see ../shared/data/dedup)")
    records, gold = load_benchmark(args.data)
    ours_s, pairs = run_ours(records)
    ours = accuracy(gold, pairs)
    print(f"{args.data.name}: {len(records)} records, {ours['works']} works")
    show("ours", ours_s, ours)
    result = {
        "records": len(records),
        "ours_s": ours_s,
        "ours_sens": ours["sensitivity"],
        "ours_spec": ours["specificity"],
        "queue_pairs": ours["queue_pairs"],
        "bibdedupe_s": None,
        "bd_sens": None,
        "bd_spec": None,
    }

    use_bd = not args.no_bibdedupe and bibdedupe_available()
    if not args.no_bibdedupe and not use_bd:
        print(
            "bib-dedupe is not installed: `.venv/bin/pip install bib-dedupe` (bench only, "
            "not an app dependency) to compare with it"
        )
    if use_bd:
        bd_s, bd = run_bibdedupe(args.data / "records_pre_merged.csv", gold)
        show("bib-dedupe", bd_s, bd)
        print(f"bib-dedupe maybe pairs {bd['maybe_pairs']}, our queue {ours['queue_pairs']}")
        result.update(bibdedupe_s=bd_s, bd_sens=bd["sensitivity"], bd_spec=bd["specificity"])

    if args.records:
        command = [sys.executable, __file__, "--worker", "--records", str(args.records)]
        command += ["--data", str(args.data)]
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        synth = json.loads(output.strip().splitlines()[-1])
        print(
            f"synthetic: {args.records} records, {synth['works']} works, "
            f"{synth['duplicates']} duplicates; ours prepare {synth['prepare_s']:.1f} s + "
            f"find_pairs + clusters {synth['find_pairs_s']:.1f} s, peak {synth['peak_mb']:.0f} MB"
        )
        show("ours", synth["seconds"], synth)
        result.update(
            records=args.records,
            ours_s=synth["seconds"],
            ours_sens=synth["sensitivity"],
            ours_spec=synth["specificity"],
            queue_pairs=synth["queue_pairs"],
            bibdedupe_s=None,
            bd_sens=None,
            bd_spec=None,
        )
        if use_bd and not args.skip_bibdedupe:
            print("bib-dedupe on the synthetic set (13+ minutes at 100,000 records)...")
            bd_s, bd = run_bibdedupe_synthetic(args, records, gold)
            show("bib-dedupe", bd_s, bd)
            result.update(bibdedupe_s=bd_s, bd_sens=bd["sensitivity"], bd_spec=bd["specificity"])

    print(
        f"records={result['records']} ours_s={fmt(result['ours_s'], 2)} "
        f"bibdedupe_s={fmt(result['bibdedupe_s'], 2)} ours_sens={fmt(result['ours_sens'])} "
        f"ours_spec={fmt(result['ours_spec'])} bd_sens={fmt(result['bd_sens'])} "
        f"bd_spec={fmt(result['bd_spec'])} queue_pairs={result['queue_pairs']}"
    )


def run_bibdedupe_synthetic(args, records, gold):
    """bib-dedupe on the synthetic set, written as a records CSV in bib-dedupe's columns."""
    import csv
    import tempfile

    synthetic_gold = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "records.csv"
        with open(path, "w", encoding="utf-8", newline="") as f:
            columns = ["ID", "ENTRYTYPE", "author", "year", "title", "journal", "volume"]
            columns += ["number", "pages", "abstract", "doi", "url"]
            writer = csv.DictWriter(f, fieldnames=columns)
            writer.writeheader()
            for record_id, r, label in synthetic(records, gold, args.records):
                synthetic_gold[record_id] = label
                writer.writerow(
                    {
                        "ID": record_id,
                        "ENTRYTYPE": "article",
                        "author": r["authors"],
                        "year": r["year"],
                        "title": r["title"],
                        "journal": r["journal"],
                        "volume": r["volume"],
                        "number": r["issue"],
                        "pages": r["pages"],
                        "abstract": r["abstract"],
                        "doi": r["doi"],
                        "url": f"https://www.ncbi.nlm.nih.gov/pubmed/{r['pmid']}"
                        if r["pmid"]
                        else "",
                    }
                )
        return run_bibdedupe(path, synthetic_gold)


if __name__ == "__main__":
    main()
