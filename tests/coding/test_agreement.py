"""coding.agreement: hand-computed tables, then random spans checked against scikit-learn's
cohen_kappa_score on labels expanded per character and per segment, then the ORM loader."""

import random
import time
import warnings

import pytest
from sklearn.metrics import cohen_kappa_score

from coding.agreement import (
    CHARACTER_UNIT,
    CODED_CHARACTER_UNIT,
    NOTE_NO_UNITS,
    NOTE_ONE_LABEL,
    SEGMENT_UNIT,
    SEGMENT_UNIT_WITH_UNCODED,
    CodeAgreement,
    agreement_table,
    document_agreement,
)
from coding.models import Code, Document, DocumentVersion, Excerpt, ExcerptCode
from screening.models import Study
from tests.factories import ReviewFactory, UserFactory

TOL = {"rel": 1e-9, "abs": 1e-9}
C, D = 1, 2


def one(length, spans_a, spans_b, code=C, **kwargs):
    [result] = agreement_table(length, spans_a, spans_b, [code], **kwargs)
    return result


def table(result):
    return (result.n, result.both, result.only_a, result.only_b, result.neither)


# --------------------------------------------------------------------------- hand-computed

# Length 100; A codes [0,40) with C, B codes [20,60) with C. Boundaries 0,20,40,60 give
# [0,20) only A, [20,40) both, [40,60) only B; [60,100) nobody coded.
OVERLAP_A = [(0, 40, frozenset({C}))]
OVERLAP_B = [(20, 60, frozenset({C}))]


def test_overlap_segment_level():
    # n=3: both=1 only_a=1 only_b=1 neither=0. po = 1/3; pA1 = pB1 = 2/3;
    # pe = 2/3*2/3 + 1/3*1/3 = 5/9; kappa = (1/3 - 5/9) / (4/9) = -0.5.
    result = one(100, OVERLAP_A, OVERLAP_B)
    assert isinstance(result, CodeAgreement)
    assert result.code_id == C
    assert result.unit == SEGMENT_UNIT
    assert table(result) == (3, 1, 1, 1, 0)
    assert result.agreed == 1
    assert result.percent_agreement == pytest.approx(100 / 3, **TOL)
    assert result.kappa == pytest.approx(-0.5, **TOL)
    assert result.kappa_note == ""


def test_overlap_character_level():
    # n=60 characters: both=20 only_a=20 only_b=20 neither=0, the same shares as by segment,
    # so po = 1/3, pe = 5/9 and kappa = -0.5 again.
    result = one(100, OVERLAP_A, OVERLAP_B, level="character")
    assert result.unit == CODED_CHARACTER_UNIT
    assert table(result) == (60, 20, 20, 20, 0)
    assert result.percent_agreement == pytest.approx(100 / 3, **TOL)
    assert result.kappa == pytest.approx(-0.5, **TOL)


def test_overlap_including_uncoded_segment_level():
    # [60,100) becomes a fourth unit, labelled 0 by both: n=4 both=1 only_a=1 only_b=1
    # neither=1. po = 2/4; pA1 = pB1 = 1/2; pe = 1/4 + 1/4 = 1/2; kappa = 0.
    result = one(100, OVERLAP_A, OVERLAP_B, include_uncoded=True)
    assert result.unit == SEGMENT_UNIT_WITH_UNCODED
    assert table(result) == (4, 1, 1, 1, 1)
    assert result.percent_agreement == pytest.approx(50.0, **TOL)
    assert result.kappa == pytest.approx(0.0, **TOL)


def test_overlap_including_uncoded_character_level_sums_the_chance_products():
    # n=100: both=20 only_a=20 only_b=20 neither=40. po = 60/100 = 0.6; pA1 = pB1 = 0.4.
    # Right: pe = 0.4*0.4 + 0.6*0.6 = 0.52, kappa = (0.6 - 0.52) / 0.48 = 1/6.
    # Wrong (QualCoder's product): pe = 0.16 * 0.36 = 0.0576, kappa = 0.5424 / 0.9424 = 0.5756.
    result = one(100, OVERLAP_A, OVERLAP_B, level="character", include_uncoded=True)
    assert result.unit == CHARACTER_UNIT
    assert table(result) == (100, 20, 20, 20, 40)
    assert result.percent_agreement == pytest.approx(60.0, **TOL)
    assert result.kappa == pytest.approx(1 / 6, **TOL)
    assert result.kappa != pytest.approx((0.6 - 0.0576) / (1 - 0.0576), abs=1e-3)


def test_perfect_agreement_on_two_codes():
    # Both code [0,10) with C and [20,30) with D; [10,20) and [30,50) nobody coded.
    # For C: units [0,10) both, [20,30) neither -> po = 1, pe = 1/2*1/2 + 1/2*1/2 = 1/2,
    # kappa = 1. D mirrors it.
    spans = [(0, 10, frozenset({C})), (20, 30, frozenset({D}))]
    for level in ("segment", "character"):
        by_code = agreement_table(50, spans, list(spans), [C, D], level=level)
        weight = 1 if level == "segment" else 10
        assert [r.code_id for r in by_code] == [C, D]
        for result in by_code:
            assert table(result) == (2 * weight, weight, 0, 0, weight)
            assert result.percent_agreement == 100.0
            assert result.kappa == pytest.approx(1.0, **TOL)


def test_identical_constant_labels_leave_kappa_undefined():
    # Both code exactly [10,30) with C: the one coded unit is labelled 1 by both, so
    # pA1 = pB1 = 1, pe = 1 and kappa is 0/0. Agreement itself is 100%.
    spans = [(10, 30, frozenset({C}))]
    for level in ("segment", "character"):
        result = one(50, spans, list(spans), level=level)
        assert result.percent_agreement == 100.0
        assert result.kappa is None
        assert result.kappa_note == NOTE_ONE_LABEL


def test_code_nobody_applied_is_constant_zero_over_coded_text():
    # Coded text is [0,40) (by C); D labels it 0 for both coders: pe = 1 again.
    result = one(100, OVERLAP_A, OVERLAP_B, code=D)
    assert table(result) == (3, 0, 0, 0, 3)
    assert result.percent_agreement == 100.0
    assert result.kappa is None
    assert result.kappa_note == NOTE_ONE_LABEL


def test_opposite_constant_labels_give_kappa_zero():
    # A codes all of [0,10) with C, B codes it with D: for C, A says 1 and B says 0 on the
    # one unit. pA1 = 1, pB1 = 0: pe = 1*0 + 0*1 = 0, po = 0, kappa = 0 (defined).
    result = one(10, [(0, 10, frozenset({C}))], [(0, 10, frozenset({D}))])
    assert table(result) == (1, 0, 1, 0, 0)
    assert result.percent_agreement == 0.0
    assert result.kappa == 0.0
    assert result.kappa_note == ""


def test_two_codes_on_overlapping_excerpts():
    # Length 100. A: [0,50) C, [30,80) D.  B: [10,50) C+D, [60,90) D.
    # Boundaries 0,10,30,50,60,80,90 (then 100); [90,100) nobody coded.
    #   segment   len  A     B
    #   [0,10)    10   C     -
    #   [10,30)   20   C     C,D
    #   [30,50)   20   C,D   C,D
    #   [50,60)   10   D     -
    #   [60,80)   20   D     D
    #   [80,90)   10   -     D
    spans_a = [(0, 50, frozenset({C})), (30, 80, frozenset({D}))]
    spans_b = [(10, 50, frozenset({C, D})), (60, 90, frozenset({D}))]
    c_seg, d_seg = agreement_table(100, spans_a, spans_b, [C, D])
    c_chr, d_chr = agreement_table(100, spans_a, spans_b, [C, D], level="character")

    # C by segment: both=2 only_a=1 neither=3, n=6. po = 5/6; pA1 = 1/2, pB1 = 1/3;
    # pe = 1/6 + 1/3 = 1/2; kappa = (5/6 - 1/2) / (1/2) = 2/3.
    assert table(c_seg) == (6, 2, 1, 0, 3)
    assert c_seg.kappa == pytest.approx(2 / 3, **TOL)
    # C by character: both=40 only_a=10 neither=40, n=90. po = 8/9; pA1 = 5/9, pB1 = 4/9;
    # pe = 20/81 + 20/81 = 40/81; kappa = (72/81 - 40/81) / (41/81) = 32/41.
    assert table(c_chr) == (90, 40, 10, 0, 40)
    assert c_chr.percent_agreement == pytest.approx(800 / 9, **TOL)
    assert c_chr.kappa == pytest.approx(32 / 41, **TOL)
    # D by segment: both=2 only_a=1 only_b=2 neither=1, n=6. po = 1/2; pA1 = 1/2,
    # pB1 = 2/3; pe = 1/3 + 1/6 = 1/2; kappa = 0.
    assert table(d_seg) == (6, 2, 1, 2, 1)
    assert d_seg.kappa == pytest.approx(0.0, **TOL)
    # D by character: both=40 only_a=10 only_b=30 neither=10, n=90. po = 5/9; pA1 = 5/9,
    # pB1 = 7/9; pe = 35/81 + 8/81 = 43/81; kappa = (45/81 - 43/81) / (38/81) = 1/19.
    assert table(d_chr) == (90, 40, 10, 30, 10)
    assert d_chr.kappa == pytest.approx(1 / 19, **TOL)


def test_adjacent_and_nested_excerpts_of_one_coder():
    # Length 50. A: [0,20) C and [20,40) C touch at 20, and [5,15) C sits inside the first;
    # B: [0,40) C and [40,50) D. Boundaries 0,5,15,20,40,50. C covers [0,40) for both
    # without a gap: both=4 ([0,5),[5,15),[15,20),[20,40)), neither=1 ([40,50), coded by B
    # with D). po = 1; pA1 = pB1 = 4/5; pe = 16/25 + 1/25 = 17/25; kappa = 1.
    spans_a = [(0, 20, frozenset({C})), (20, 40, frozenset({C})), (5, 15, frozenset({C}))]
    spans_b = [(0, 40, frozenset({C})), (40, 50, frozenset({D}))]
    result = one(50, spans_a, spans_b)
    assert table(result) == (5, 4, 0, 0, 1)
    assert result.kappa == pytest.approx(1.0, **TOL)
    result = one(50, spans_a, spans_b, level="character")
    assert table(result) == (50, 40, 0, 0, 10)
    assert result.kappa == pytest.approx(1.0, **TOL)


def test_span_without_codes_is_ignored():
    # An excerpt with no code neither cuts [0,40) nor makes [60,100) coded.
    with_blank = [*OVERLAP_A, (10, 30, frozenset()), (70, 90, frozenset())]
    assert one(100, with_blank, OVERLAP_B) == one(100, OVERLAP_A, OVERLAP_B)


def test_zero_length_document():
    for include_uncoded in (False, True):
        for level in ("segment", "character"):
            [result] = agreement_table(0, [], [], [C], level=level, include_uncoded=include_uncoded)
            assert table(result) == (0, 0, 0, 0, 0)
            assert result.percent_agreement is None
            assert result.kappa is None
            assert result.kappa_note == NOTE_NO_UNITS


def test_nothing_coded_excludes_everything_unless_uncoded_is_included():
    assert one(100, [], []).n == 0
    # Including uncoded text, the whole document is one segment both label 0.
    result = one(100, [], [], include_uncoded=True)
    assert table(result) == (1, 0, 0, 0, 1)
    assert result.kappa_note == NOTE_ONE_LABEL
    assert one(100, [], [], level="character", include_uncoded=True).n == 100


def test_codes_reported_in_the_order_asked_without_duplicates():
    by_code = agreement_table(100, OVERLAP_A, OVERLAP_B, [D, C, D, "other"])
    assert [r.code_id for r in by_code] == [D, C, "other"]


@pytest.mark.parametrize(
    "span", [(-1, 10, frozenset({C})), (10, 10, frozenset({C})), (20, 10, frozenset({C})),
             (90, 101, frozenset({C}))],
)  # fmt: skip
def test_bad_spans_are_rejected(span):
    with pytest.raises(ValueError, match="outside"):
        agreement_table(100, [span], [], [C])
    with pytest.raises(ValueError, match="outside"):
        agreement_table(100, [], [span], [C])


def test_unknown_level_is_rejected():
    with pytest.raises(ValueError, match="level"):
        agreement_table(100, [], [], [C], level="word")


# --------------------------------------------------------------------------- vs scikit-learn


def random_spans(rng, length, codes):
    spans = []
    for _ in range(rng.randint(0, 8)):
        start = rng.randrange(length)
        end = rng.randint(start + 1, min(length, start + rng.choice([3, 30, 300])))
        applied = frozenset(code for code in codes if rng.random() < 0.4)
        spans.append((start, end, applied))
    return spans


def labels_by_brute_force(length, spans_a, spans_b, code, level, include_uncoded):
    """Each coder's 0/1 labels per unit, built position by position."""
    coding = [s for s in spans_a + spans_b if s[2]]
    if level == "character":
        starts = list(range(length))
    else:
        cuts = sorted({0, length} | {s for s, _, _ in coding} | {e for _, e, _ in coding})
        starts = cuts[:-1]

    def labels(spans, positions):
        return [int(any(s <= p < e and code in applied for s, e, applied in spans))
                for p in positions]  # fmt: skip

    # A segment is coded throughout or not at all, so testing its first position is enough.
    kept = [p for p in starts if include_uncoded or any(s <= p < e for s, e, _ in coding)]
    return labels(spans_a, kept), labels(spans_b, kept)


def test_matches_sklearn_on_random_documents():
    rng = random.Random(20240611)
    codes = [1, 2, 3]
    compared = undefined = 0
    for _ in range(50):
        length = rng.randint(1, 300)
        spans_a = random_spans(rng, length, codes)
        spans_b = random_spans(rng, length, codes)
        for level in ("segment", "character"):
            for include_uncoded in (False, True):
                results = agreement_table(
                    length, spans_a, spans_b, codes + [4], level=level,
                    include_uncoded=include_uncoded,
                )  # fmt: skip
                for result in results:
                    a, b = labels_by_brute_force(
                        length, spans_a, spans_b, result.code_id, level, include_uncoded
                    )
                    assert result.n == len(a)
                    assert result.both == sum(x & y for x, y in zip(a, b))
                    assert result.only_a == sum(x > y for x, y in zip(a, b))
                    assert result.only_b == sum(x < y for x, y in zip(a, b))
                    if not a:
                        assert result.percent_agreement is None and result.kappa is None
                        continue
                    agreed = sum(x == y for x, y in zip(a, b))
                    assert result.percent_agreement == pytest.approx(100 * agreed / len(a), **TOL)
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        expected = cohen_kappa_score(a, b)
                    compared += 1
                    if expected != expected:  # nan: sklearn's "undefined"
                        undefined += 1
                        assert result.kappa is None
                        assert result.kappa_note == NOTE_ONE_LABEL
                    else:
                        assert result.kappa == pytest.approx(expected, **TOL)
    # The generator must exercise both defined and undefined kappas.
    assert compared > 500 and 0 < undefined < compared / 2


def test_large_document_is_fast():
    # 200,000 characters, 2,000 excerpts per coder, 60 codes: one sweep, no per-character work.
    rng = random.Random(7)
    length = 200_000
    codes = list(range(60))

    def spans():
        result = []
        for _ in range(2000):
            start = rng.randrange(length - 1)
            end = min(length, start + rng.randint(1, 2000))
            result.append((start, end, frozenset(rng.sample(codes, rng.randint(1, 3)))))
        return result

    spans_a, spans_b = spans(), spans()
    began = time.perf_counter()
    for level in ("segment", "character"):
        results = agreement_table(length, spans_a, spans_b, codes, level=level)
        assert len(results) == 60
    assert time.perf_counter() - began < 1.0


# --------------------------------------------------------------------------- ORM


@pytest.mark.django_db
def test_document_agreement_loads_both_coders_in_one_go(django_assert_max_num_queries):
    review = ReviewFactory()
    coder_a, coder_b, other = UserFactory(), UserFactory(), UserFactory()
    study = Study.objects.create(review=review, label="Smith 2020")
    document = Document.objects.create(review=review, study=study, title="Full text", source="txt")
    text = "é" * 60 + "x" * 40  # code points, not bytes: 100 of them
    version = DocumentVersion.objects.create(
        document=document,
        number=1,
        text=text,
        length=len(text),
        sha256=DocumentVersion.digest(text),
    )
    later = DocumentVersion.objects.create(
        document=document,
        number=2,
        text=text,
        length=len(text),
        sha256=DocumentVersion.digest(text),
    )
    code_c = Code.objects.create(review=review, name="Stigma")
    code_d = Code.objects.create(review=review, name="Cost", parent=code_c)

    def excerpt(coder, start, end, *codes, on=version):
        made = Excerpt.objects.create(
            version=on, review=review, document=document, coder=coder, start=start, end=end,
            text=text[start:end],
        )  # fmt: skip
        for code in codes:
            ExcerptCode.objects.create(excerpt=made, code=code)

    # The two-code case of test_two_codes_on_overlapping_excerpts, with C and D as Codes.
    excerpt(coder_a, 0, 50, code_c)
    excerpt(coder_a, 30, 80, code_d)
    excerpt(coder_b, 10, 50, code_c, code_d)
    excerpt(coder_b, 60, 90, code_d)
    # None of these may count: a third coder, another version, an excerpt without codes.
    excerpt(other, 0, 100, code_c, code_d)
    excerpt(coder_a, 80, 100, code_c, on=later)
    excerpt(coder_b, 90, 100)

    with django_assert_max_num_queries(3):
        c_chr, d_chr = document_agreement(
            version, coder_a, coder_b, [code_c, code_d], level="character"
        )
    assert (c_chr.code_id, d_chr.code_id) == (code_c.pk, code_d.pk)
    assert table(c_chr) == (90, 40, 10, 0, 40)
    assert c_chr.kappa == pytest.approx(32 / 41, **TOL)
    assert table(d_chr) == (90, 40, 10, 30, 10)
    assert d_chr.kappa == pytest.approx(1 / 19, **TOL)

    # Ids work as well as objects; swapping the coders swaps only_a and only_b.
    with django_assert_max_num_queries(3):
        [d_seg] = document_agreement(version, coder_b.pk, coder_a.pk, [code_d.pk])
    assert table(d_seg) == (6, 2, 2, 1, 1)
    assert d_seg.unit == SEGMENT_UNIT

    [d_all] = document_agreement(
        version, coder_a, coder_b, [code_d], level="character", include_uncoded=True
    )
    assert table(d_all) == (100, 40, 10, 30, 20)
