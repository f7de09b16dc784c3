"""Prioritisation: the simulation's figures, the training labels, the ranking, the command.

The Smid_2020 test fails if active learning stops clearly beating screening in random order
(whose WSS@95 is about 0); the full figures against ASReview are bench/prioritisation_bench.py.
"""

import csv
import dataclasses
import re
from io import StringIO

import numpy as np
import pytest
import sklearn
from django.core.management import CommandError, call_command

from screening.prioritisation import (
    DEFAULT_SETTINGS,
    RecordText,
    code_version,
    describe,
    labels_from,
    load_labelled_csv,
    rank,
    score_records,
    screening_figures,
    simulate,
    vectorize,
)
from screening.prioritisation.simulate import prior_records

LAST_LINE = re.compile(
    r"records=(\d+) includes=(\d+) wss95=(-?\d\.\d{4}) recall10=(\d\.\d{4}) "
    r"screened95=(\d+) screened100=(\d+) seconds=(\d+\.\d)"
)


def synthetic_review(includes=8, excludes=32):
    """(records, labels): includes about sleep apnoea in children, excludes on other topics."""
    rng = np.random.default_rng(7)
    topics = ["dental caries", "hip fracture", "asthma inhalers", "knee surgery", "migraine"]
    fillers = "cohort trial survey registry adults elderly outcomes costs quality".split()
    records, labels = [], []
    for i in range(includes):
        extra = " ".join(rng.choice(fillers, 3))
        records.append(
            RecordText(
                f"Obstructive sleep apnoea in children: study {i}",
                f"Children with obstructive sleep apnoea after adenotonsillectomy; {extra}.",
            )
        )
        labels.append(1)
    for i in range(excludes):
        topic = topics[i % len(topics)]
        extra = " ".join(rng.choice(fillers, 3))
        records.append(
            RecordText(f"{topic.capitalize()} in adults: report {i}", f"{topic} {extra}")
        )
        labels.append(0)
    return records, np.array(labels)


def test_figures_follow_the_definitions_on_a_hand_made_order():
    # N' = 20, R' = 4: 95% of includes is ceil(3.8) = 4, the 4th is the 11th record screened.
    figures = screening_figures([1, 0, 1, 0, 0, 1, 0, 0, 0, 0, 1], records=20, includes=4)
    assert figures.screened95 == 11
    assert figures.screened100 == 11
    assert figures.wss95 == pytest.approx((20 - 11) / 20 - 0.05)
    # floor(0.10 * 20) = 2 records, 1 include among them.
    assert figures.recall10 == 0.25


def test_figures_stop_at_95_percent_of_includes():
    # N' = 100, R' = 20: ceil(19.0) = 19 includes, all in the first 19 records; the 20th
    # include is the 30th record.
    screened = [1] * 19 + [0] * 10 + [1]
    figures = screening_figures(screened, records=100, includes=20)
    assert (figures.screened95, figures.screened100) == (19, 30)
    assert figures.wss95 == pytest.approx(0.76)
    assert figures.recall10 == 0.5


def test_figures_need_every_include_and_the_first_tenth():
    with pytest.raises(ValueError, match="every one"):
        screening_figures([1, 0, 0], records=20, includes=2)
    with pytest.raises(ValueError, match="floor"):
        screening_figures([1], records=20, includes=1)


def test_settled_outcomes_count_in_full_whatever_the_votes():
    labels = labels_from(
        {"r1": "include", "r2": "exclude"},
        {"r1": ["exclude", "exclude"], "r2": ["include", "maybe"]},
    )
    assert labels == {"r1": (1, 1.0), "r2": (0, 1.0)}


def test_unsettled_votes_count_at_lower_weight():
    labels = labels_from(
        {"a": None, "b": None},
        {
            "a": ["exclude"],
            "b": ["include", "include"],
            "c": ["maybe"],
            "d": ["exclude", "include"],
            "e": ["maybe", "exclude", "exclude"],
            "f": [],
        },
    )
    assert labels == {
        "a": (0, 0.5),
        "b": (1, 0.5),
        "c": (1, 0.5),
        "d": (1, 0.25),
        "e": (1, 0.25),
    }


def test_unknown_votes_and_outcomes_are_refused():
    with pytest.raises(ValueError, match="unknown vote"):
        labels_from({}, {"a": ["yes"]})
    with pytest.raises(ValueError, match="unknown outcome"):
        labels_from({"a": "maybe"}, {})


def test_rank_puts_records_like_the_includes_first():
    records, labels = synthetic_review()
    known = {0: 1, 1: (1, 0.5), 8: 0, 9: (0, 0.25)}
    scores = rank(records, known)
    unknown = [row for row in range(len(records)) if row not in known]
    top = sorted(unknown, key=lambda row: -scores[row])[:6]
    assert [int(labels[row]) for row in top] == [1] * 6


def test_rank_without_an_exclude_uses_similarity_and_without_an_include_keeps_order():
    records, _ = synthetic_review()
    scores = rank(records, {0: 1})
    assert scores[2] > scores[20]
    assert not rank(records, {20: 0}).any()


def test_rank_refuses_unknown_settings_and_bad_labels():
    records, _ = synthetic_review()
    with pytest.raises(ValueError, match="Unknown prioritisation settings: c"):
        rank(records, {0: 1, 20: 0}, settings={"c": 1})
    with pytest.raises(ValueError, match="must be 0 or 1"):
        rank(records, {0: 2})


def test_features_survive_tiny_pools_and_missing_titles():
    assert vectorize([RecordText("", "only an abstract")]).shape[0] == 1
    matrix = vectorize([("", "an abstract"), {"abstract": "an abstract", "keywords": ["x"]}])
    assert matrix.shape[0] == 2


def test_simulation_is_repeatable_and_its_figures_match_its_order():
    records, labels = synthetic_review()
    first = simulate(records, labels, seed=3)
    again = simulate(records, labels, seed=3)
    assert dataclasses.replace(first, seconds=0) == dataclasses.replace(again, seconds=0)
    assert (first.records, first.includes) == (40, 8)
    include, exclude = prior_records(labels, 3)
    assert include not in first.order and exclude not in first.order
    figures = screening_figures(labels[list(first.order)], records=38, includes=7)
    assert (first.screened95, first.screened100) == (figures.screened95, figures.screened100)
    assert first.wss95 == figures.wss95
    # The includes share their words: all 7 come first.
    assert first.screened100 == 7


def test_simulation_with_batches_screens_the_same_records():
    records, labels = synthetic_review()
    result = simulate(records, labels, seed=1, retrain_every=5)
    assert len(set(result.order)) == len(result.order)
    assert sum(labels[list(result.order)]) == 7


def test_ranking_beats_random_order_on_smid_2020(shared_data):
    dataset = load_labelled_csv(shared_data / "screening" / "Smid_2020.csv")
    matrix = vectorize(dataset.records)
    for seed in (0, 1):
        result = simulate(matrix, dataset.labels, seed=seed, retrain_every=10)
        # Random order gives about 0; retrained after every record the model reaches 0.86.
        assert result.wss95 > 0.75, (seed, result.wss95)
        assert result.recall10 > 0.8, (seed, result.recall10)


def write_csv(path, header, rows):
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def test_command_prints_the_figures_as_its_last_line(tmp_path):
    records, labels = synthetic_review()
    path = tmp_path / "review.csv"
    write_csv(
        path,
        ["Primary Title", "Abstract Note", "Included"],
        [(r.title, r.abstract, int(label)) for r, label in zip(records, labels, strict=True)],
    )
    out = StringIO()
    call_command("simulate_screening", str(path), "--label-column", "included", stdout=out)
    lines = out.getvalue().splitlines()
    assert "title column 'Primary Title', abstract column 'Abstract Note'" in lines[0]
    match = LAST_LINE.fullmatch(lines[-1])
    assert match, lines[-1]
    result = simulate(records, labels, seed=0)
    assert match.groups()[:6] == (
        "40",
        "8",
        f"{result.wss95:.4f}",
        f"{result.recall10:.4f}",
        str(result.screened95),
        str(result.screened100),
    )


def test_command_says_which_column_it_could_not_find(tmp_path):
    path = tmp_path / "review.csv"
    write_csv(path, ["title", "summary", "label_included"], [("a", "b", 1)])
    with pytest.raises(CommandError, match="no abstract column .*the file has title, summary"):
        call_command("simulate_screening", str(path))
    write_csv(path, ["title", "abstract", "label_included"], [("a", "b", "")])
    with pytest.raises(CommandError, match="Record 1: label_included is '', expected 1 or 0"):
        call_command("simulate_screening", str(path))


def test_code_version_is_stable_and_names_scikit_learn():
    version = code_version()
    assert version == code_version()
    assert re.fullmatch(r"[0-9a-f]{12}\+sklearn" + re.escape(sklearn.__version__), version)
    assert version in describe()
    assert f"C={DEFAULT_SETTINGS['C']}" in describe()


def test_score_records_keys_scores_by_record_id_and_ignores_unknown_ids():
    records, labels = synthetic_review()
    record_ids = [f"r{n}" for n in range(len(records))]
    known = labels_from({"r0": "include", "r20": "exclude", "gone": "include"}, {})
    scores = score_records(records, record_ids, known)
    assert list(scores) == record_ids
    assert scores["r1"] > scores["r21"]
    by_row = rank(records, {0: (1, 1.0), 20: (0, 1.0)})
    assert [scores[f"r{n}"] for n in range(len(records))] == by_row.tolist()
