"""screening.agreement: hand-computed cases, then generated decisions checked against
scikit-learn's cohen_kappa_score and the krippendorff package (skipped where absent)."""

import ast
import itertools
import json
import random
import warnings
from fractions import Fraction
from pathlib import Path

import pytest

from screening import agreement
from screening.agreement import (
    AlphaResult,
    PairAgreement,
    PooledAgreement,
    krippendorff_alpha,
    pair_agreement,
    pairwise,
    pooled_agreement,
    stage_summary,
)

TOL = {"rel": 1e-9, "abs": 1e-9}


def labels_from_cells(cells):
    """{(label_a, label_b): count} -> (labels_a, labels_b) over items 0..n-1."""
    a, b = {}, {}
    item = 0
    for (la, lb), count in cells.items():
        for _ in range(count):
            a[item], b[item] = la, lb
            item += 1
    return a, b


def decisions_from(labels_by_rater):
    """{rater: {item: label}} -> [(item, rater, label)]."""
    return [
        (item, rater, label)
        for rater, labels in labels_by_rater.items()
        for item, label in labels.items()
    ]


# --------------------------------------------------------------------------- hand-computed


def test_classic_two_by_two():
    # 50 items: A yes on 25, B yes on 30.
    # po = (20 + 15) / 50 = 0.7; pe = 25/50 * 30/50 + 25/50 * 20/50 = 0.3 + 0.2 = 0.5;
    # kappa = (0.7 - 0.5) / (1 - 0.5) = 0.4.
    a, b = labels_from_cells(
        {("yes", "yes"): 20, ("yes", "no"): 5, ("no", "yes"): 10, ("no", "no"): 15}
    )
    result = pair_agreement(a, b, rater_a="A", rater_b="B")
    assert isinstance(result, PairAgreement)
    assert (result.rater_a, result.rater_b) == ("A", "B")
    assert result.n == 50
    assert result.agreed == 35
    assert result.disagreed == 15
    assert result.percent_agreement == pytest.approx(0.7)
    assert result.observed == pytest.approx(0.7)
    assert result.expected == pytest.approx(0.5)
    assert result.kappa == pytest.approx(0.4)
    assert result.categories == ["no", "yes"]
    assert result.matrix == {
        ("no", "no"): 15, ("no", "yes"): 10, ("yes", "no"): 5, ("yes", "yes"): 20,
    }  # fmt: skip
    assert result.table() == [[15, 10], [5, 20]]
    assert result.marginals_a == {"no": 25, "yes": 25}
    assert result.marginals_b == {"no": 20, "yes": 30}
    assert result.note == ""


# A 3-category title/abstract table, 20 records (rows: rater A, columns: rater B):
#
#                 B exclude  B include  B maybe   | A total
#   A exclude         8          1         1      |   10
#   A include         0          4         1      |    5
#   A maybe           1          1         3      |    5
#   B total           9          6         5      |   20
#
# po = (8 + 4 + 3) / 20 = 15/20 = 0.75
# pe = (10*9 + 5*6 + 5*5) / 20**2 = (90 + 30 + 25) / 400 = 145/400 = 0.3625
# kappa = (0.75 - 0.3625) / (1 - 0.3625) = 0.3875 / 0.6375 = 31/51 = 0.6078431...
THREE_CATEGORY = {
    ("exclude", "exclude"): 8, ("exclude", "include"): 1, ("exclude", "maybe"): 1,
    ("include", "exclude"): 0, ("include", "include"): 4, ("include", "maybe"): 1,
    ("maybe", "exclude"): 1, ("maybe", "include"): 1, ("maybe", "maybe"): 3,
}  # fmt: skip


def test_three_categories_by_hand():
    result = pair_agreement(*labels_from_cells(THREE_CATEGORY))
    assert result.n == 20
    assert result.agreed == 15
    assert result.categories == ["exclude", "include", "maybe"]
    assert result.matrix == THREE_CATEGORY
    assert result.marginals_a == {"exclude": 10, "include": 5, "maybe": 5}
    assert result.marginals_b == {"exclude": 9, "include": 6, "maybe": 5}
    assert result.percent_agreement == pytest.approx(0.75)
    assert result.expected == pytest.approx(145 / 400)
    assert result.kappa == pytest.approx(31 / 51)


def test_chance_term_is_a_sum_of_products_not_a_product():
    """QualCoder-style bug: multiplying the per-category chance terms instead of summing
    them. On the 3-category table the two differ, and so would kappa."""
    result = pair_agreement(*labels_from_cells(THREE_CATEGORY))
    shares = [(10 / 20, 9 / 20), (5 / 20, 6 / 20), (5 / 20, 5 / 20)]
    summed = sum(pa * pb for pa, pb in shares)  # 0.3625
    multiplied = 1.0
    for pa, pb in shares:
        multiplied *= pa * pb  # 0.225 * 0.075 * 0.0625 = 0.00105...
    assert result.expected == pytest.approx(summed)
    assert result.expected != pytest.approx(multiplied)
    wrong_kappa = (0.75 - multiplied) / (1 - multiplied)  # 0.7497...
    assert result.kappa == pytest.approx(31 / 51)
    assert result.kappa != pytest.approx(wrong_kappa, abs=1e-3)


def test_maybe_is_its_own_category_unless_the_caller_maps_it():
    a = {1: "include", 2: "maybe", 3: "exclude", 4: "exclude"}
    b = {1: "maybe", 2: "include", 3: "exclude", 4: "exclude"}
    separate = pair_agreement(a, b)
    assert separate.agreed == 2
    merge = {"maybe": "include"}
    merged = pair_agreement(
        {k: merge.get(v, v) for k, v in a.items()}, {k: merge.get(v, v) for k, v in b.items()}
    )
    assert merged.agreed == 4
    assert merged.kappa == 1.0


def test_perfect_agreement():
    labels = {i: ("include" if i % 3 == 0 else "exclude") for i in range(30)}
    result = pair_agreement(labels, dict(labels))
    assert result.agreed == result.n == 30
    assert result.percent_agreement == 1.0
    assert result.kappa == 1.0


def test_chance_level_agreement_gives_zero():
    # Every cell 25: po = 50/100 = 0.5, pe = 0.5*0.5 + 0.5*0.5 = 0.5, kappa = 0.
    a, b = labels_from_cells(
        {("yes", "yes"): 25, ("yes", "no"): 25, ("no", "yes"): 25, ("no", "no"): 25}
    )
    result = pair_agreement(a, b)
    assert result.percent_agreement == 0.5
    assert result.expected == 0.5
    assert result.kappa == 0.0


def test_one_rater_constant_gives_zero_not_undefined():
    # A says exclude to all; B excludes 8 of 10. po = 0.8, pe = 1 * 0.8 = 0.8, kappa = 0.
    a = dict.fromkeys(range(10), "exclude")
    b = {i: ("exclude" if i < 8 else "include") for i in range(10)}
    result = pair_agreement(a, b)
    assert result.percent_agreement == pytest.approx(0.8)
    assert result.expected == pytest.approx(0.8)
    assert result.kappa == 0.0
    assert result.note == ""


def test_kappa_undefined_when_both_use_one_identical_category():
    a = dict.fromkeys(range(12), "exclude")
    result = pair_agreement(a, dict(a))
    assert result.n == 12
    assert result.percent_agreement == 1.0
    assert result.expected == 1.0
    assert result.kappa is None
    assert result.note == "all decisions in one category: kappa undefined"


def test_one_category_each_but_different_is_defined():
    # po = 0, pe = 1*0 + 0*1 = 0, kappa = 0.
    result = pair_agreement(dict.fromkeys(range(5), "include"), dict.fromkeys(range(5), "exclude"))
    assert result.percent_agreement == 0.0
    assert result.kappa == 0.0


def test_no_overlap():
    result = pair_agreement({1: "include", 2: "exclude"}, {3: "include"}, "A", "B")
    assert result.n == 0
    assert result.agreed == 0
    assert result.percent_agreement is None
    assert result.kappa is None
    assert result.observed is None
    assert result.expected is None
    assert result.categories == ["exclude", "include"]
    assert set(result.matrix.values()) == {0}
    assert "undefined" in result.note


def test_items_rated_by_one_only_and_none_labels_are_ignored():
    a = {1: "include", 2: "exclude", 3: "include", 4: None}
    b = {1: "include", 2: "include", 5: "exclude", 4: "exclude"}
    result = pair_agreement(a, b)
    assert result.n == 2
    assert result.agreed == 1


def test_categories_fix_the_table_without_changing_kappa():
    a, b = labels_from_cells(
        {("yes", "yes"): 20, ("yes", "no"): 5, ("no", "yes"): 10, ("no", "no"): 15}
    )
    result = pair_agreement(a, b, categories=["yes", "no", "maybe"])
    assert result.categories == ["maybe", "no", "yes"]
    assert result.table() == [[0, 0, 0], [0, 15, 10], [0, 5, 20]]
    assert result.kappa == pytest.approx(0.4)
    with pytest.raises(ValueError, match="outside"):
        pair_agreement(a, b, categories=["yes"])


def test_as_dict_is_json_ready():
    a, b = labels_from_cells(THREE_CATEGORY)
    data = pair_agreement(a, b, rater_a=1, rater_b=2).as_dict()
    assert json.loads(json.dumps(data))["table"] == [[8, 1, 1], [0, 4, 1], [1, 1, 3]]
    assert data["kappa"] == pytest.approx(31 / 51)


# --------------------------------------------------------------------------- pairwise, pooled

# Raters 1, 2, 3. Items 1-3 by raters 1 and 2, items 4-6 by raters 2 and 3:
#   pair (1, 2): (inc, inc) (exc, exc) (inc, exc): n 3, agreed 2, pe = (2*1 + 1*2) / 9 = 4/9
#   pair (2, 3): (inc, exc) (exc, exc) (inc, inc): n 3, agreed 2, pe = (2*1 + 1*2) / 9 = 4/9
# De Vries: po = 4/6, pe = (3 * 4/9 + 3 * 4/9) / 6 = 4/9, kappa = (2/9) / (5/9) = 0.4.
# Summed table with rater ids 1 < 2 < 3: rows (first rater) inc 4, exc 2; columns inc 2,
# exc 4: pe = (4*2 + 2*4) / 36 = 4/9, kappa 0.4 as well. Renaming rater 2 to 0 (so it is
# always first): rows inc 3, exc 3; columns inc 3, exc 3: pe = 1/2, kappa = (2/3 - 1/2) / (1/2)
# = 1/3 — the summed table depends on the id order, De Vries does not.
OVERLAPPING_PAIRS = [
    (1, 1, "include"), (1, 2, "include"),
    (2, 1, "exclude"), (2, 2, "exclude"),
    (3, 1, "include"), (3, 2, "exclude"),
    (4, 2, "include"), (4, 3, "exclude"),
    (5, 2, "exclude"), (5, 3, "exclude"),
    (6, 2, "include"), (6, 3, "include"),
]  # fmt: skip


def test_pairwise_lists_co_rating_pairs_sorted():
    decisions = OVERLAPPING_PAIRS + [(7, 4, "include")]  # rater 4 co-rated nothing
    pairs = pairwise(reversed(decisions))
    assert [(p.rater_a, p.rater_b) for p in pairs] == [(1, 2), (2, 3)]
    first, second = pairs
    assert (first.n, first.agreed) == (3, 2)
    assert first.matrix[("include", "exclude")] == 1  # rater 1 include, rater 2 exclude
    assert first.expected == pytest.approx(4 / 9)
    assert second.matrix[("include", "exclude")] == 1  # item 4: rater 2 include, 3 exclude
    assert first.categories == second.categories == ["exclude", "include"]


def test_pooled_by_hand_and_its_id_order_dependence():
    pooled = pooled_agreement(OVERLAPPING_PAIRS)
    assert isinstance(pooled, PooledAgreement)
    assert pooled.method == "de_vries"
    assert (pooled.rater_a, pooled.rater_b) == (None, None)
    assert (pooled.n, pooled.agreed, pooled.n_items, pooled.n_rater_pairs) == (6, 4, 6, 2)
    assert pooled.percent_agreement == pytest.approx(4 / 6)
    assert pooled.expected == pytest.approx(4 / 9)
    assert pooled.kappa == pytest.approx(0.4)
    assert pooled.table() == [[2, 0], [2, 2]]
    summed = pooled_agreement(OVERLAPPING_PAIRS, method="summed_table")
    assert summed.kappa == pytest.approx(0.4)

    renamed = [
        (item, 0 if rater == 2 else rater, label) for item, rater, label in OVERLAPPING_PAIRS
    ]
    assert pooled_agreement(renamed).kappa == pytest.approx(0.4)
    assert pooled_agreement(renamed, method="summed_table").kappa == pytest.approx(1 / 3)


def test_pooled_reduces_to_cohen_with_two_fixed_raters():
    a, b = labels_from_cells(THREE_CATEGORY)
    decisions = decisions_from({"rita": a, "ravi": b})
    pair = pair_agreement(b, a)  # "ravi" < "rita": ravi is rater_a
    for method in ("de_vries", "summed_table"):
        pooled = pooled_agreement(decisions, method=method)
        assert pooled.kappa == pytest.approx(pair.kappa)
        assert pooled.expected == pytest.approx(pair.expected)
        assert pooled.matrix == pair.matrix
        assert (pooled.n, pooled.agreed, pooled.n_rater_pairs) == (20, 15, 1)


def test_pooled_three_raters_on_one_item_make_three_units():
    decisions = [(1, "a", "include"), (1, "b", "include"), (1, "c", "exclude"), (2, "a", "x")]
    pooled = pooled_agreement(decisions)
    assert (pooled.n, pooled.agreed, pooled.n_items, pooled.n_rater_pairs) == (3, 1, 1, 3)


def test_pooled_undefined_and_empty():
    same = [(i, r, "exclude") for i in range(4) for r in ("a", "b")]
    for method in ("de_vries", "summed_table"):
        result = pooled_agreement(same, method=method)
        assert result.kappa is None
        assert result.percent_agreement == 1.0
        assert "kappa undefined" in result.note
        empty = pooled_agreement([(1, "a", "include"), (2, "b", "include")], method=method)
        assert (empty.n, empty.kappa, empty.percent_agreement) == (0, None, None)
    with pytest.raises(ValueError, match="method"):
        pooled_agreement(same, method="fleiss")


def test_conflicting_duplicate_decision_is_rejected():
    with pytest.raises(ValueError, match="twice"):
        pairwise([(1, "a", "include"), (1, "a", "exclude"), (1, "b", "include")])
    # The same decision twice is harmless.
    assert pairwise([(1, "a", "include"), (1, "a", "include"), (1, "b", "include")])[0].n == 1


def test_rater_ids_that_do_not_compare_still_sort_deterministically():
    decisions = [(1, 5, "include"), (1, "x", "include"), (2, 5, "exclude"), (2, "x", "include")]
    first = pairwise(decisions)
    assert [(p.rater_a, p.rater_b) for p in first] == [(5, "x")]
    assert pairwise(reversed(decisions))[0].matrix == first[0].matrix


# --------------------------------------------------------------------------- Krippendorff


def test_alpha_small_case_by_hand():
    # Item 1: a, a, b (m = 3, each ordered pair weighs 1/2): o_aa += 1, o_ab += 1, o_ba += 1
    # Item 2: a, a:  o_aa += 2.   Item 3: b, b:  o_bb += 2.   Item 4: one rating, dropped.
    # o_aa = 3, o_ab = o_ba = 1, o_bb = 2; n_a = 4, n_b = 3, n = 7.
    # alpha = 1 - (n - 1) * (o_ab + o_ba) / (n_a n_b + n_b n_a) = 1 - 6 * 2 / 24 = 0.5
    # D_o = 2 / 7, D_e = 24 / (7 * 6) = 4 / 7.
    decisions = [
        (1, "r1", "a"), (1, "r2", "a"), (1, "r3", "b"),
        (2, "r1", "a"), (2, "r2", "a"),
        (3, "r2", "b"), (3, "r3", "b"),
        (4, "r1", "b"),
    ]  # fmt: skip
    result = krippendorff_alpha(decisions)
    assert isinstance(result, AlphaResult)
    assert result.alpha == pytest.approx(0.5)
    assert (result.n_items, result.n_values, result.n_raters) == (3, 7, 3)
    assert result.categories == ["a", "b"]
    assert result.coincidence == {("a", "a"): 3, ("a", "b"): 1, ("b", "a"): 1, ("b", "b"): 2}
    assert result.value_counts == {"a": 4, "b": 3}
    assert result.observed_disagreement == pytest.approx(2 / 7)
    assert result.expected_disagreement == pytest.approx(4 / 7)
    assert json.loads(json.dumps(result.as_dict()))["coincidence"] == [[3, 1], [1, 2]]


# Krippendorff (2011), "Computing Krippendorff's alpha-reliability", the nominal example:
# 4 observers, 12 units, missing values; unit 12 has one value and drops out. alpha = 0.743.
KRIPPENDORFF_2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]


def krippendorff_2011_decisions():
    return [
        (unit, observer, str(value))
        for observer, row in enumerate(KRIPPENDORFF_2011)
        for unit, value in enumerate(row)
        if value is not None
    ]


def test_alpha_published_example():
    result = krippendorff_alpha(krippendorff_2011_decisions())
    assert result.n_items == 11
    assert result.n_values == 40
    assert result.alpha == pytest.approx(0.743, abs=5e-4)


def test_alpha_undefined_cases():
    one = krippendorff_alpha([(i, r, "exclude") for i in range(3) for r in "abc"])
    assert one.alpha is None
    assert "one category" in one.note
    assert one.n_values == 9
    none = krippendorff_alpha([(1, "a", "include"), (2, "b", "exclude")])
    assert (none.alpha, none.n_items, none.n_values) == (None, 0, 0)
    assert "two or more ratings" in none.note
    with pytest.raises(ValueError, match="nominal"):
        krippendorff_alpha([], level="interval")


# --------------------------------------------------------------------------- summary


def test_stage_summary_two_raters_has_no_alpha():
    a, b = labels_from_cells(THREE_CATEGORY)
    summary = stage_summary(iter(decisions_from({"rita": a, "ravi": b})))
    assert summary["alpha"] is None
    assert [(p.rater_a, p.rater_b) for p in summary["pairs"]] == [("ravi", "rita")]
    assert summary["pooled"].kappa == pytest.approx(31 / 51)
    assert summary["raters"] == ["ravi", "rita"]
    assert (summary["n_items"], summary["n_decisions"], summary["n_items_multi"]) == (20, 40, 20)


def test_stage_summary_more_raters_adds_alpha():
    summary = stage_summary(OVERLAPPING_PAIRS)  # three raters, never more than two per item
    assert isinstance(summary["alpha"], AlphaResult)
    assert summary["alpha"].n_values == 12
    assert len(summary["pairs"]) == 2
    assert summary["pooled"].kappa == pytest.approx(0.4)
    summary = stage_summary(OVERLAPPING_PAIRS, categories=["include", "exclude", "maybe"])
    assert summary["pairs"][0].categories == ["exclude", "include", "maybe"]
    assert summary["alpha"].categories == ["exclude", "include", "maybe"]


def test_module_imports_no_numeric_libraries():
    tree = ast.parse(Path(agreement.__file__).read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert not imported & {"numpy", "sklearn", "krippendorff", "scipy", "pandas"}


# --------------------------------------------------------------------------- generated data

SEEDS = [1, 7, 42, 2024]
SIZES = [10, 57, 300, 2000]
CATEGORY_SETS = {
    "2 balanced": (["exclude", "include"], [1, 1]),
    "2 skewed": (["exclude", "include"], [9, 1]),
    "3 balanced": (["exclude", "include", "maybe"], [1, 1, 1]),
    "3 skewed": (["exclude", "include", "maybe"], [16, 3, 1]),
}


def generate(rng, raters, size, categories, weights, p_rated, p_follow):
    """Decisions on `size` items: each rater rates an item with probability p_rated, and
    copies the item's 'true' label with probability p_follow, else draws one at random."""
    decisions = []
    for item in range(size):
        truth = rng.choices(categories, weights)[0]
        for rater in raters:
            if rng.random() < p_rated:
                label = truth if rng.random() < p_follow else rng.choices(categories, weights)[0]
                decisions.append((item, rater, label))
    return decisions


def sklearn_kappa(y1, y2):
    from sklearn.metrics import cohen_kappa_score

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cohen_kappa_score(y1, y2)


def co_rated(decisions, rater_a, rater_b):
    by_rater = {}
    for item, rater, label in decisions:
        by_rater.setdefault(rater, {})[item] = label
    a, b = by_rater.get(rater_a, {}), by_rater.get(rater_b, {})
    common = sorted(a.keys() & b.keys())
    return [a[i] for i in common], [b[i] for i in common]


def assert_same_kappa(ours, y1, y2):
    import math

    theirs = sklearn_kappa(y1, y2)
    if ours.kappa is None:
        assert math.isnan(theirs)
        assert len(set(y1) | set(y2)) == 1
    else:
        assert ours.kappa == pytest.approx(theirs, **TOL)
    assert ours.percent_agreement == pytest.approx(sum(x == y for x, y in zip(y1, y2)) / len(y1))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("spec", CATEGORY_SETS)
def test_pair_kappa_matches_sklearn(seed, size, spec):
    pytest.importorskip("sklearn")
    categories, weights = CATEGORY_SETS[spec]
    rng = random.Random(f"{seed}-{size}-{spec}")
    p_follow = rng.choice([0.0, 0.5, 0.8, 0.95])
    decisions = generate(rng, ["A", "B"], size, categories, weights, 0.9, p_follow)
    y1, y2 = co_rated(decisions, "A", "B")
    by_rater = {"A": {}, "B": {}}
    for item, rater, label in decisions:
        by_rater[rater][item] = label
    ours = pair_agreement(by_rater["A"], by_rater["B"], "A", "B")
    assert ours.n == len(y1)
    assert_same_kappa(ours, y1, y2)
    # The same two raters through pairwise and both pooled methods.
    (pair,) = pairwise(decisions)
    assert pair.kappa == ours.kappa
    for method in ("de_vries", "summed_table"):
        pooled = pooled_agreement(decisions, method=method)
        if ours.kappa is None:
            assert pooled.kappa is None
        else:
            assert pooled.kappa == pytest.approx(ours.kappa, **TOL)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("size", [10, 200, 2000])
@pytest.mark.parametrize("spec", CATEGORY_SETS)
def test_pairs_and_pooled_match_sklearn_with_many_raters(seed, size, spec):
    np = pytest.importorskip("numpy")
    pytest.importorskip("sklearn")
    from sklearn.metrics import confusion_matrix

    categories, weights = CATEGORY_SETS[spec]
    rng = random.Random(f"pooled-{seed}-{size}-{spec}")
    raters = ["r1", "r2", "r3", "r4"]
    decisions = generate(rng, raters, size, categories, weights, 0.55, 0.7)
    pairs = pairwise(decisions)
    for pair in pairs:
        assert_same_kappa(pair, *co_rated(decisions, pair.rater_a, pair.rater_b))

    # Units: every pair of an item's raters, ordered by rater id.
    firsts, seconds, tables = [], [], []
    for a, b in itertools.combinations(raters, 2):
        y1, y2 = co_rated(decisions, a, b)
        firsts += y1
        seconds += y2
        if y1:
            tables.append(confusion_matrix(y1, y2, labels=categories))
    summed = pooled_agreement(decisions, method="summed_table")
    assert summed.n == len(firsts) == sum(p.n for p in pairs)
    assert_same_kappa(summed, firsts, seconds)

    # De Vries: n-weighted means of each pair's po and pe.
    n = np.array([t.sum() for t in tables], dtype=float)
    po = np.array([np.trace(t) for t in tables]) / n
    pe = np.array([(t.sum(axis=1) * t.sum(axis=0)).sum() for t in tables]) / n**2
    mean_po, mean_pe = (n * po).sum() / n.sum(), (n * pe).sum() / n.sum()
    de_vries = pooled_agreement(decisions)
    assert de_vries.percent_agreement == pytest.approx(mean_po, **TOL)
    assert de_vries.expected == pytest.approx(mean_pe, **TOL)
    if de_vries.kappa is not None:
        assert de_vries.kappa == pytest.approx((mean_po - mean_pe) / (1 - mean_pe), **TOL)
    else:
        assert mean_pe == pytest.approx(1.0)


def package_alpha(decisions, raters, categories):
    np = pytest.importorskip("numpy")
    krippendorff = pytest.importorskip("krippendorff")
    items = sorted({item for item, _, _ in decisions})
    column = {item: j for j, item in enumerate(items)}
    data = np.full((len(raters), len(items)), np.nan)
    for item, rater, label in decisions:
        data[raters.index(rater), column[item]] = categories.index(label)
    return krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")


def test_alpha_published_example_matches_package():
    decisions = krippendorff_2011_decisions()
    categories = sorted({label for _, _, label in decisions})
    theirs = package_alpha(decisions, [0, 1, 2, 3], categories)
    assert krippendorff_alpha(decisions).alpha == pytest.approx(theirs, **TOL)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("size", [10, 80, 500, 2000])
@pytest.mark.parametrize("n_raters", [2, 3, 5])
@pytest.mark.parametrize("spec", CATEGORY_SETS)
def test_alpha_matches_krippendorff_package(seed, size, n_raters, spec):
    pytest.importorskip("krippendorff")
    categories, weights = CATEGORY_SETS[spec]
    rng = random.Random(f"alpha-{seed}-{size}-{n_raters}-{spec}")
    raters = [f"r{k}" for k in range(n_raters)]
    # Missing ratings: with 2 raters at p_rated 0.8 about a third of the items have one
    # rating or none; with 5 raters items have anything from 0 to 5.
    decisions = generate(rng, raters, size, categories, weights, 0.8, rng.choice([0.3, 0.8]))
    ours = krippendorff_alpha(decisions)
    ratings_per_item = {}
    for item, _, _ in decisions:
        ratings_per_item[item] = ratings_per_item.get(item, 0) + 1
    assert ours.n_items == sum(1 for m in ratings_per_item.values() if m >= 2)
    assert ours.n_values == sum(m for m in ratings_per_item.values() if m >= 2)
    assert ours.n_raters == len({rater for _, rater, _ in decisions})
    assert sum(ours.value_counts.values()) == ours.n_values
    assert sum(ours.coincidence.values()) == pytest.approx(ours.n_values)
    if ours.alpha is None:
        assert len({c for c, n in ours.value_counts.items() if n}) <= 1
        return
    theirs = package_alpha(decisions, raters, categories)
    assert ours.alpha == pytest.approx(theirs, **TOL)
    assert ours.alpha == pytest.approx(
        1 - ours.observed_disagreement / ours.expected_disagreement, **TOL
    )


def test_alpha_with_single_rated_items_and_items_nobody_rated():
    pytest.importorskip("krippendorff")
    rng = random.Random(5)
    raters = ["a", "b", "c"]
    decisions = []
    for item in range(400):
        k = item % 4  # 0, 1, 2 or 3 raters
        for rater in rng.sample(raters, k):
            decisions.append((item, rater, rng.choice(["include", "exclude", "maybe"])))
    ours = krippendorff_alpha(decisions)
    assert ours.n_items == 200  # the items with 2 or 3 raters
    theirs = package_alpha(decisions, raters, ["exclude", "include", "maybe"])
    assert ours.alpha == pytest.approx(theirs, **TOL)


def test_exact_fractions_behind_pooled_expected():
    """pe is accumulated exactly, so a pooled figure of one pair equals the pair's own."""
    a, b = labels_from_cells(THREE_CATEGORY)
    pooled = pooled_agreement(decisions_from({1: a, 2: b}))
    assert Fraction(pooled.expected).limit_denominator(1000) == Fraction(145, 400)
