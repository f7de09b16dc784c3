"""Screening exports: the decision log (CSV and XLSX), agreement statistics and the excluded
studies table, each written for a small review whose decisions are known."""

import csv
import io
from datetime import UTC

import openpyxl
import pytest

from exports.registry import get_format
from exports.writers import screening as screening_writers
from exports.writers.screening import AGREEMENT_HEADER, EXCLUDED_HEADER, SCREENING_HEADER
from screening.decisions import config_for, record_decision, resolve_conflict
from screening.models import Decision, DuplicatePair, ExclusionReason, Record, Resolution
from screening.services import decide_pair
from screening.views.stats import agreement_by_stage
from tests.factories import MembershipFactory
from tests.screening.factories import import_file, ris_bytes, work

pytestmark = pytest.mark.django_db

TA, FT = "Title and abstract", "Full text"


@pytest.fixture
def screened(review, lead, reviewer, reviewer2):
    """E1 (also found by ASSIA): included at title/abstract, then a full-text conflict on the
    reason that the lead resolves. E2: a title/abstract conflict resolved to exclude. E3:
    no decision yet. E4 (by "Abbott"): agreed exclusion at full text. Rita's note on E1
    starts with "=cmd"."""
    reasons = {
        text: ExclusionReason.objects.create(review=review, text=text, position=i)
        for i, text in enumerate(["Not peer reviewed", "Not in English"])
    }
    import_file(review, ris_bytes([work(1), work(2), work(3), work(4, authors=["Abbott, Ann"])]))
    import_file(review, ris_bytes([work(1, id="dup")]), source="ASSIA")
    r = {rec.source_id: rec for rec in Record.objects.filter(duplicate_of=None)}
    record_decision(record=r["E1"], stage="ta", reviewer=reviewer, value="include",
                    note="=cmd|' /C calc'!A0")  # fmt: skip
    record_decision(record=r["E1"], stage="ta", reviewer=reviewer2, value="maybe")
    record_decision(record=r["E2"], stage="ta", reviewer=reviewer, value="include")
    record_decision(record=r["E2"], stage="ta", reviewer=reviewer2, value="exclude")
    resolve_conflict(record=r["E2"], stage="ta", user=lead, value="exclude", note="Off topic")
    for stage, value in (("ta", "include"), ("ft", "exclude")):
        for person in (reviewer, reviewer2):
            record_decision(record=r["E4"], stage=stage, reviewer=person, value=value,
                            reason=reasons["Not in English"])  # fmt: skip
    record_decision(record=r["E1"], stage="ft", reviewer=reviewer, value="exclude",
                    reason=reasons["Not peer reviewed"])  # fmt: skip
    record_decision(record=r["E1"], stage="ft", reviewer=reviewer2, value="exclude",
                    reason=reasons["Not in English"])  # fmt: skip
    resolve_conflict(record=r["E1"], stage="ft", user=lead, value="exclude",
                     reason=reasons["Not peer reviewed"], note="A conference abstract")  # fmt: skip
    return r


def export(name, review):
    out = io.BytesIO()
    fractions = []
    get_format(name).write(
        review, out, progress=lambda f, message="": fractions.append(f), options={}
    )
    assert not out.closed
    assert fractions and fractions[-1] == 1.0
    return out.getvalue()


def read_csv(data):
    assert data.startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 only with the BOM
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def at(moment):
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def decided(record, stage, reviewer):
    return at(Decision.objects.get(record=record, stage=stage, reviewer=reviewer).updated_at)


def resolved(record, stage):
    return at(Resolution.objects.get(record=record, stage=stage).decided_at)


def test_formats_are_registered():
    for name, extension in (("screening-csv", "csv"), ("screening-xlsx", "xlsx"),
                            ("agreement-csv", "csv"), ("excluded-csv", "csv")):  # fmt: skip
        assert (get_format(name).group, get_format(name).extension) == ("Screening", extension)


def expected_log(r, lead, reviewer, reviewer2):
    def record(key):
        rec = r[key]
        sources = "ASSIA; PsycINFO" if key == "E1" else "PsycINFO"
        return [str(rec.pk), rec.title, str(rec.year), rec.authors[0], rec.doi, sources, ""]

    e1, e2, e3, e4 = (record(k) for k in ("E1", "E2", "E3", "E4"))
    rita, ravi, lena = "Rita Reviewer", "Ravi Reviewer", "Lena Lead"
    return [
        SCREENING_HEADER,
        [*e1, TA, "Agreed include", rita, "Include", "", "'=cmd|' /C calc'!A0",
         decided(r["E1"], "ta", reviewer), ""],
        [*e1, TA, "Agreed include", ravi, "Maybe", "", "", decided(r["E1"], "ta", reviewer2), ""],
        [*e1, FT, "Resolved: exclude", rita, "Exclude", "Not peer reviewed", "",
         decided(r["E1"], "ft", reviewer), ""],
        [*e1, FT, "Resolved: exclude", ravi, "Exclude", "Not in English", "",
         decided(r["E1"], "ft", reviewer2), ""],
        [*e1, FT, "Resolved: exclude", lena, "Exclude", "Not peer reviewed",
         "A conference abstract", resolved(r["E1"], "ft"), "yes"],
        [*e2, TA, "Resolved: exclude", rita, "Include", "", "", decided(r["E2"], "ta", reviewer),
         ""],
        [*e2, TA, "Resolved: exclude", ravi, "Exclude", "", "", decided(r["E2"], "ta", reviewer2),
         ""],
        [*e2, TA, "Resolved: exclude", lena, "Exclude", "", "Off topic", resolved(r["E2"], "ta"),
         "yes"],
        [*e3, TA, "Awaiting reviewers", "", "", "", "", "", ""],
        [*e4, TA, "Agreed include", rita, "Include", "", "", decided(r["E4"], "ta", reviewer), ""],
        [*e4, TA, "Agreed include", ravi, "Include", "", "", decided(r["E4"], "ta", reviewer2),
         ""],
        [*e4, FT, "Agreed exclude", rita, "Exclude", "Not in English", "",
         decided(r["E4"], "ft", reviewer), ""],
        [*e4, FT, "Agreed exclude", ravi, "Exclude", "Not in English", "",
         decided(r["E4"], "ft", reviewer2), ""],
    ]  # fmt: skip


def test_screening_csv_has_every_decision_and_resolution(
    review, screened, lead, reviewer, reviewer2
):
    rows = read_csv(export("screening-csv", review))
    assert rows == expected_log(screened, lead, reviewer, reviewer2)


def test_screening_xlsx_has_the_same_rows(review, screened, lead, reviewer, reviewer2):
    workbook = openpyxl.load_workbook(io.BytesIO(export("screening-xlsx", review)))
    assert workbook.sheetnames == ["Screening"]
    values = [list(row) for row in workbook["Screening"].iter_rows(values_only=True)]
    assert values[0] == SCREENING_HEADER
    for row in values[1:]:
        assert isinstance(row[0], int) and isinstance(row[2], int)  # numbers stay numbers
        if row[13] is not None:
            row[13] = row[13].strftime("%Y-%m-%d %H:%M:%S")  # a real date and time cell
    as_text = [["" if v is None else str(v) for v in row] for row in values]
    assert as_text == expected_log(screened, lead, reviewer, reviewer2)
    assert values[1][12] == "'=cmd|' /C calc'!A0"  # shown as text, never run


@pytest.mark.parametrize("chunk", [1, 2, 5])
def test_chunk_boundaries_change_nothing(
    review, screened, lead, reviewer, reviewer2, monkeypatch, chunk
):
    """A record's title/abstract and full-text rows may fall in different chunks."""
    monkeypatch.setattr(screening_writers, "CHUNK", chunk)
    rows = read_csv(export("screening-csv", review))
    assert rows == expected_log(screened, lead, reviewer, reviewer2)
    assert [row[0] for row in read_csv(export("excluded-csv", review))[1:]] == [
        str(screened["E4"].pk), str(screened["E1"].pk),
    ]  # fmt: skip


def test_a_record_merged_after_screening_keeps_its_decisions(review, lead, reviewer):
    import_file(review, ris_bytes([work(1)]))
    import_file(review, ris_bytes([work(2)]), source="ASSIA")
    kept, later = Record.objects.order_by("pk")
    record_decision(record=later, stage="ta", reviewer=reviewer, value="include")
    pair = DuplicatePair.objects.create(review=review, record_a=kept, record_b=later, score=0.9)
    decide_pair(pair=pair, user=lead, is_duplicate=True)
    rows = read_csv(export("screening-csv", review))
    columns = ("record_id", "sources", "merged_into", "stage_status", "reviewer", "decision")
    picked = [[row[SCREENING_HEADER.index(c)] for c in columns] for row in rows[1:]]
    assert picked == [
        [str(kept.pk), "ASSIA; PsycINFO", "", "Awaiting reviewers", "", ""],
        [str(later.pk), "ASSIA", str(kept.pk), "Merged into another record", "Rita Reviewer",
         "Include"],
    ]  # fmt: skip


def test_xlsx_drops_characters_a_workbook_cannot_hold(review):
    import_file(review, ris_bytes([work(1)]))
    Record.objects.update(title="Bell\x07 and tab\tkept")
    workbook = openpyxl.load_workbook(io.BytesIO(export("screening-xlsx", review)))
    assert workbook["Screening"]["B2"].value == "Bell and tab\tkept"


def test_reviewer_without_a_name_appears_by_email(review, reviewer):
    nameless = MembershipFactory(review=review, user__name="", user__email="sam@example.org").user
    import_file(review, ris_bytes([work(1)]))
    record = Record.objects.get()
    record_decision(record=record, stage="ta", reviewer=nameless, value="exclude")
    rows = read_csv(export("screening-csv", review))
    assert [row[9:11] for row in rows[1:]] == [["sam@example.org", "Exclude"]]


def test_screening_csv_streams_with_a_fixed_number_of_queries(
    review, reviewer, reviewer2, django_assert_max_num_queries
):
    def grow_to(n):
        before = list(Record.objects.values_list("pk", flat=True))
        import_file(review, ris_bytes([work(i) for i in range(len(before), n)]))
        for record in Record.objects.exclude(pk__in=before):
            for person in (reviewer, reviewer2):
                record_decision(record=record, stage="ta", reviewer=person, value="exclude")

    for size in (30, 300):
        grow_to(size)
        # A count, the stage rows' iterator, and three queries per chunk of 2,000 rows.
        with django_assert_max_num_queries(5):
            rows = read_csv(export("screening-csv", review))
        assert len(rows) == 1 + 2 * size


# --- agreement ----------------------------------------------------------------------------


def by_comparison(rows):
    header, *body = rows
    assert header == AGREEMENT_HEADER
    return [dict(zip(header, row, strict=True)) for row in body]


def test_agreement_of_two_reviewers(review, reviewer, reviewer2):
    """Rita: include, exclude, include, maybe; Ravi: include, exclude, exclude, maybe.
    po = 3/4, pe = (1*2 + 2*1 + 1*1) / 16 = 5/16, kappa = (12 - 5) / (16 - 5) = 7/11."""
    import_file(review, ris_bytes([work(n) for n in range(1, 5)]))
    records = list(Record.objects.order_by("pk"))
    for record, a, b in zip(records, ["include", "exclude", "include", "maybe"],
                            ["include", "exclude", "exclude", "maybe"], strict=True):  # fmt: skip
        record_decision(record=record, stage="ta", reviewer=reviewer, value=a)
        record_decision(record=record, stage="ta", reviewer=reviewer2, value=b)
    rows = by_comparison(read_csv(export("agreement-csv", review)))
    assert [(row["stage"], row["comparison"]) for row in rows] == [
        (TA, "pair"),
        (TA, "all pairs (pooled kappa, De Vries et al. 2008)"),
        (FT, "all pairs (pooled kappa, De Vries et al. 2008)"),
    ]
    pair, pooled, ft = rows
    # Reviewers in user-id order, as the agreement page shows them.
    assert (pair["reviewer_a"], pair["reviewer_b"]) == ("Rita Reviewer", "Ravi Reviewer")
    assert (pair["n"], pair["agreed"], pair["percent_agreement"]) == ("4", "3", "75.0")
    assert (pair["cohens_kappa"], pair["expected_agreement"]) == ("0.6364", "0.3125")
    assert pair["krippendorff_alpha"] == ""
    assert (pair["a_include_b_exclude"], pair["a_include_b_include"]) == ("1", "1")
    assert (pair["a_maybe_b_maybe"], pair["a_exclude_b_exclude"]) == ("1", "1")
    assert pooled["cohens_kappa"] == "0.6364" and pooled["items"] == "4"
    assert (ft["n"], ft["cohens_kappa"], ft["note"]) == (
        "0", "", "no item rated by both: agreement undefined",
    )  # fmt: skip
    assert ft["a_maybe_b_maybe"] == ""  # no "maybe" at full text


def test_agreement_equals_the_stats_page_and_adds_alpha_for_three(review, reviewer, reviewer2):
    third = MembershipFactory(review=review, user__name="Tia Third").user
    config = config_for(review)
    config.reviewers_per_record = 3
    config.save()
    import_file(review, ris_bytes([work(n) for n in range(1, 7)]))
    plan = {
        reviewer: ["include", "exclude", "include", "maybe", "exclude", "include"],
        reviewer2: ["include", "exclude", "exclude", "maybe", "exclude", "maybe"],
        third: ["include", "include", "exclude", "maybe", "exclude", "include"],
    }
    for i, record in enumerate(Record.objects.order_by("pk")):
        for person, values in plan.items():
            record_decision(record=record, stage="ta", reviewer=person, value=values[i])
    rows = by_comparison(read_csv(export("agreement-csv", review)))
    page = agreement_by_stage(review)[0]["summary"]
    pairs = [row for row in rows if row["stage"] == TA and row["comparison"] == "pair"]
    assert len(pairs) == 3 == len(page["pairs"])
    for row, pair in zip(pairs, page["pairs"], strict=True):
        assert row["cohens_kappa"] == f"{pair.kappa:.4f}"
        assert row["percent_agreement"] == f"{100 * pair.percent_agreement:.1f}"
        assert row["n"] == str(pair.n)
    pooled = next(row for row in rows if row["stage"] == TA and "pooled" in row["comparison"])
    assert pooled["cohens_kappa"] == f"{page['pooled'].kappa:.4f}"
    alpha = next(row for row in rows if "Krippendorff" in row["comparison"])
    assert alpha["krippendorff_alpha"] == f"{page['alpha'].alpha:.4f}"
    assert (alpha["stage"], alpha["n"], alpha["items"], alpha["reviewers"]) == (TA, "18", "6", "3")


# --- excluded studies ---------------------------------------------------------------------


def test_excluded_at_full_text(review, screened):
    rows = read_csv(export("excluded-csv", review))
    e1, e4 = screened["E1"], screened["E4"]

    def citation(rec):
        return [str(rec.pk)], ["; ".join(rec.authors), str(rec.year), rec.title, rec.journal,
                               rec.volume, rec.issue, rec.pages, rec.doi]  # fmt: skip

    (id1, cite1), (id4, cite4) = citation(e1), citation(e4)
    assert rows == [
        EXCLUDED_HEADER,
        # Abbott sorts before Author1; E2 was excluded at title/abstract, so is not here.
        [*id4, f"Abbott {e4.year}", *cite4, "Not in English", "Reviewers agreed"],
        [*id1, f"Author1 {e1.year}", *cite1, "Not peer reviewed",
         "Adjudicator resolved a conflict"],
    ]  # fmt: skip


# --- edge cases and the demo review ---------------------------------------------------------


def test_a_review_without_records_exports_headers(review):
    assert read_csv(export("screening-csv", review)) == [SCREENING_HEADER]
    assert read_csv(export("excluded-csv", review)) == [EXCLUDED_HEADER]
    workbook = openpyxl.load_workbook(io.BytesIO(export("screening-xlsx", review)))
    assert [list(r) for r in workbook["Screening"].iter_rows(values_only=True)] == [
        SCREENING_HEADER
    ]
    rows = by_comparison(read_csv(export("agreement-csv", review)))
    assert [(row["stage"], row["n"]) for row in rows] == [(TA, "0"), (FT, "0")]


def test_demo_review_exports_agree_with_prisma(db):
    from reviewapp.demo import seed_demo
    from screening.models import RecordStage
    from screening.prisma import prisma_counts

    review, _ = seed_demo()
    log = read_csv(export("screening-csv", review))[1:]
    decisions = Decision.objects.filter(review=review).count()
    resolutions = Resolution.objects.filter(review=review).count()
    undecided = RecordStage.objects.filter(review=review, decision_count=0).count()
    assert len(log) == decisions + resolutions + undecided
    assert sum(row[-1] == "yes" for row in log) == resolutions
    counts = prisma_counts(review)
    excluded = read_csv(export("excluded-csv", review))[1:]
    assert len(excluded) == counts.excluded_total + counts.other_excluded_total
    by_reason = {}
    for row in excluded:
        by_reason[row[-2]] = by_reason.get(row[-2], 0) + 1
    assert by_reason == {
        reason: n + counts.other_excluded_reasons.get(reason, 0)
        for reason, n in counts.excluded_reasons.items()
        if n + counts.other_excluded_reasons.get(reason, 0)
    }
