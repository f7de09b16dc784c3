"""Candidate search, clustering and the accuracy measures of the deduplication engine.

`find_pairs(new_items, existing_items)` compares each new record with the records that share
one of its blocking keys: earlier new records of the same call and the existing records the
caller loaded (from the indexed key columns). Existing records are never compared with each
other: they were deduplicated when they arrived. Cost is near-linear: one dict lookup per key
and record, and a score per candidate, with blocks capped (see BLOCK_CAP).
"""

import csv
import re
from collections import Counter, defaultdict
from itertools import repeat
from pathlib import Path

from .keys import KEY_NAMES
from .score import AUTO_MERGE_THRESHOLD, REVIEW_THRESHOLD, score_pair

# A block (records sharing one key value) larger than this is not compared in full: a new
# record meets only the members with the same first author (and at most BLOCK_CAP of those).
# Keys are built to keep blocks small (short titles carry author and year), so this guards
# against the pathological: a supplement DOI given to every abstract in it, a title key
# shared by thousands of "Editorial" records in a large review. It bounds the work per new
# record to 4 x BLOCK_CAP scores whatever the data. The caller loading existing records
# from the key columns can apply the same limit per key value (a key value held by more
# than BLOCK_CAP records: load only those with the new record's first author).
BLOCK_CAP = 100


def _order(a, b):
    """The pair's ids in a stable order (the database wants record_a < record_b)."""
    try:
        return (a, b) if a < b else (b, a)
    except TypeError:
        return (a, b) if str(a) < str(b) else (b, a)


class _Index:
    """key name -> key value -> positions of the records seen so far."""

    def __init__(self):
        self.blocks = {name: defaultdict(list) for name in KEY_NAMES}
        self.by_author = {}  # (name, value) -> first author -> positions, for big blocks
        self.authors = []  # position -> first author

    def add(self, position, fields, keys):
        self.authors.append(fields.first_author)
        for name in KEY_NAMES:
            value = keys.get(name)
            if value:
                block = self.blocks[name][value]
                block.append(position)
                sub = self.by_author.get((name, value))
                if sub is not None:
                    sub[fields.first_author].append(position)

    def candidates(self, fields, keys):
        found = set()
        for name in KEY_NAMES:
            value = keys.get(name)
            if not value:
                continue
            block = self.blocks[name].get(value)
            if not block:
                continue
            if len(block) > BLOCK_CAP:
                sub = self.by_author.get((name, value))
                if sub is None:
                    sub = defaultdict(list)
                    for position in block:
                        sub[self.authors[position]].append(position)
                    self.by_author[(name, value)] = sub
                block = sub.get(fields.first_author, ())[-BLOCK_CAP:]
            found.update(block)
        return found


def find_pairs(new_items, existing_items=()):
    """[(id_a, id_b, PairScore)] for candidate pairs scoring >= REVIEW_THRESHOLD.

    Items are (id, DedupFields, keys dict). Pairs are new-new and new-existing, never
    existing-existing; each pair appears once, ids ordered (id_a < id_b), and the list is sorted
    best score first (then by ids), so the result is deterministic.
    """
    existing_items = list(existing_items)
    shared = shared_values(
        [keys for _, _, keys in new_items], [keys for _, _, keys in existing_items]
    )
    index = _Index()
    ids, fields_list = [], []
    for item_id, fields, keys in existing_items:
        index.add(len(ids), fields, keys)
        ids.append(item_id)
        fields_list.append(fields)
    pairs = []
    for item_id, fields, keys in new_items:
        # Most new records share no key value with any other record: they have no candidates
        # and are no one's candidate, so they need not enter the index at all.
        for name, values in shared:
            if keys.get(name) in values:
                break
        else:
            continue
        for position in sorted(index.candidates(fields, keys)):
            result = score_pair(fields, fields_list[position])
            if result.score >= REVIEW_THRESHOLD:
                pairs.append((*_order(ids[position], item_id), result))
        index.add(len(ids), fields, keys)
        ids.append(item_id)
        fields_list.append(fields)
    pairs.sort(key=lambda p: (-p[2].score, str(p[0]), str(p[1])))
    return pairs


def shared_values(*groups):
    """[(key name, the values of it that two or more of the records hold)], for the key
    names with any such value. Each group is a list of blocking-key dicts, one per record."""
    all_keys = [keys for group in groups for keys in group]
    shared = []
    for name in KEY_NAMES:
        counts = Counter(map(dict.get, all_keys, repeat(name)))
        values = {value for value, count in counts.items() if count > 1 and value}
        if values:
            shared.append((name, values))
    return shared


class _UnionFind:
    def __init__(self):
        self.parent = {}

    def find(self, x):
        parent = self.parent
        root = parent.setdefault(x, x)
        while root != parent[root]:
            root = parent[root]
        while x != root:  # path compression
            parent[x], x = root, parent[x]
        return root


def clusters(pairs, threshold=AUTO_MERGE_THRESHOLD):
    """Groups of ids joined by pairs scoring >= threshold without a veto (union-find).

    Pairs are joined best first; a join is skipped when a vetoed pair in `pairs` links the two
    groups, so a record with few details cannot chain two distinct works that are known apart
    (A~B and B~C merge, but not when A and C have different DOIs). Returns sorted lists of
    two or more ids, in a deterministic order.
    """
    uf = _UnionFind()
    cannot = defaultdict(set)  # root -> roots it must not join
    for a, b, result in pairs:
        if result.vetoes:
            ra, rb = uf.find(a), uf.find(b)
            cannot[ra].add(rb)
            cannot[rb].add(ra)
    merging = [p for p in pairs if p[2].score >= threshold and not p[2].vetoes]
    merging.sort(key=lambda p: (-p[2].score, str(p[0]), str(p[1])))
    for a, b, _result in merging:
        ra, rb = uf.find(a), uf.find(b)
        if ra == rb or rb in cannot[ra]:
            continue
        uf.parent[ra] = rb
        for other in cannot.pop(ra, ()):
            cannot[other].discard(ra)
            cannot[other].add(rb)
            cannot[rb].add(other)
    groups = defaultdict(list)
    for x in list(uf.parent):
        groups[uf.find(x)].append(x)
    out = [sorted(g, key=str) for g in groups.values() if len(g) > 1]
    out.sort(key=lambda g: str(g[0]))
    return out


def review_queue(pairs, threshold=AUTO_MERGE_THRESHOLD, groups=None):
    """The pairs a person must decide, one per pair of groups, best first.

    After the automatic merges, pairs inside one group are settled, and several pairs between
    the same two groups (four copies of an abstract vs four of an article) need one decision:
    the best-scoring pair stands for the rest. `groups` maps ids of earlier records to the
    record they were merged into (Record.duplicate_of), so that those count as one group too.
    """
    uf = _UnionFind()
    for record_id, survivor in (groups or {}).items():
        if survivor is not None:
            uf.parent[uf.find(record_id)] = uf.find(survivor)
    for group in clusters(pairs, threshold):
        for x in group[1:]:
            ra, rb = uf.find(x), uf.find(group[0])
            if ra != rb:
                uf.parent[ra] = rb
    seen = set()
    queue = []
    for a, b, result in sorted(pairs, key=lambda p: (-p[2].score, str(p[0]), str(p[1]))):
        if result.score < REVIEW_THRESHOLD or (result.score >= threshold and not result.vetoes):
            continue
        ra, rb = uf.find(a), uf.find(b)
        if ra == rb:
            continue
        key = _order(ra, rb)
        if key in seen:
            continue
        seen.add(key)
        queue.append((a, b, result))
    return queue


def accuracy(gold, pairs, threshold=AUTO_MERGE_THRESHOLD):
    """Record- and pair-level accuracy of automatic merging against a gold standard.

    `gold` maps every record id to its gold group (records of one work share a label; a work
    with one record has a label of its own). Predicted clusters are `clusters(pairs,
    threshold)`; records in no cluster stand alone. Each predicted cluster keeps one record.

    - duplicates: records that a perfect run removes: sum over gold groups of (size - 1).
    - removed: the true duplicates a run removed. Within one gold group, a predicted cluster
      holding n of its records removes n - 1 of them (its kept record counts once).
    - sensitivity = removed / duplicates.
    - works: gold groups (distinct works). A work is kept unless a predicted cluster mixes one
      of its records with a record of another gold group (then one of the two works loses its
      record, or a record is merged into the wrong work).
    - specificity = kept works / works. With 584 works, 0.9998 allows no false merge.
    - pair precision / recall: over the auto-merge pairs themselves (pairs scoring >= threshold
      without a veto), against all gold pairs (two records of one gold group).
    - queue_pairs: pairs a person would see (score >= REVIEW_THRESHOLD, not auto-merged),
      queue_decisions: the same after review_queue() collapses them per pair of groups.
    """
    predicted = {}
    for n, group in enumerate(clusters(pairs, threshold)):
        for x in group:
            predicted[x] = n
    members = defaultdict(list)
    for record_id, label in gold.items():
        members[label].append(record_id)
    duplicates = sum(len(v) - 1 for v in members.values())
    removed = 0
    for records in members.values():
        per_cluster = Counter(predicted.get(x, ("alone", x)) for x in records)
        removed += sum(n - 1 for n in per_cluster.values())
    labels_in = defaultdict(set)
    for record_id, n in predicted.items():
        labels_in[n].add(gold[record_id])
    mixed = set()
    for labels in labels_in.values():
        if len(labels) > 1:
            mixed |= labels
    works = len(members)
    gold_pairs = sum(len(v) * (len(v) - 1) // 2 for v in members.values())
    auto = [(a, b) for a, b, r in pairs if r.score >= threshold and not r.vetoes]
    true_auto = sum(1 for a, b in auto if gold[a] == gold[b])
    queue = [
        p
        for p in pairs
        if p[2].score >= REVIEW_THRESHOLD and not (p[2].score >= threshold and not p[2].vetoes)
    ]
    return {
        "records": len(gold),
        "works": works,
        "duplicates": duplicates,
        "removed": removed,
        "sensitivity": removed / duplicates if duplicates else 1.0,
        "works_mixed": len(mixed),
        "specificity": (works - len(mixed)) / works if works else 1.0,
        "auto_pairs": len(auto),
        "false_auto_pairs": len(auto) - true_auto,
        "pair_precision": true_auto / len(auto) if auto else 1.0,
        "pair_recall": true_auto / gold_pairs if gold_pairs else 1.0,
        "gold_pairs": gold_pairs,
        "queue_pairs": len(queue),
        "queue_duplicate_pairs": sum(1 for a, b, _ in queue if gold[a] == gold[b]),
        "queue_decisions": len(review_queue(pairs, threshold)),
    }


PUBMED_URL_RE = re.compile(r"ncbi\.nlm\.nih\.gov/(?:pubmed/|\?term=)(\d{1,9})\b")


def load_benchmark(directory):
    """(records, gold) of a bib-dedupe benchmark set: records_pre_merged.csv and
    merged_record_ids.csv in `directory` (see ../shared/data/dedup/README.md).

    records: [(ID, mapping in prepare()'s shape)], in file order; gold: ID -> group label, a
    record in no listed group being a work of its own. The set's fields map as an importer
    would map them: `number` is the issue, the author string stays as exported, and the PMID is
    read from a PubMed URL when the record has one (the set has no PMID column).
    """
    directory = Path(directory)
    records = []
    with open(directory / "records_pre_merged.csv", encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            match = PUBMED_URL_RE.search(row.get("url") or "")
            records.append(
                (
                    row["ID"],
                    {
                        "title": row.get("title"),
                        "abstract": row.get("abstract"),
                        "authors": row.get("author"),
                        "year": row.get("year"),
                        "journal": row.get("journal") or row.get("booktitle"),
                        "volume": row.get("volume"),
                        "issue": row.get("number"),
                        "pages": row.get("pages"),
                        "doi": row.get("doi"),
                        "pmid": match.group(1) if match else "",
                        "publication_type": row.get("ENTRYTYPE"),
                    },
                )
            )
    gold = {}
    with open(directory / "merged_record_ids.csv", encoding="utf-8", newline="") as f:
        for n, row in enumerate(csv.DictReader(f)):
            for record_id in row["merged_ids"].split(";"):
                gold[record_id.strip()] = f"group-{n}"
    for record_id, _record in records:
        gold.setdefault(record_id, f"single-{record_id}")
    return records, gold
