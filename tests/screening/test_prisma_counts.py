"""Live PRISMA 2020 counts: they reconcile at every moment, and the seed review's flow
(3,529 screened -> 84 assessed -> 22 included) comes out end to end."""

import pytest

from screening.decisions import config_for, record_decision, resolve_conflict
from screening.fulltexts import mark_not_retrieved
from screening.models import ExclusionReason, Record
from screening.prisma import prisma_counts
from screening.prisma_diagram import render_table_rows

from .factories import import_file, ris_bytes, work

pytestmark = pytest.mark.django_db

SEED_REASONS = [
    "Published in or before 2007", "Not in English", "Participants under 15",
    "Not a community setting", "Participants not service users",
    "Not accessing support for mental health", "Not peer reviewed",
]  # fmt: skip


def reconciles(c):
    kept = c.databases_total + c.other_total - c.duplicates_removed
    assert kept == c.screened + c.other_sought
    assert c.sought == c.not_retrieved + c.assessed
    assert c.other_sought == c.other_not_retrieved + c.other_assessed


def test_counts_follow_each_step(review, lead, reviewer, reviewer2):
    reason = ExclusionReason.objects.create(review=review, text="Not peer reviewed")
    import_file(review, ris_bytes([work(n) for n in range(1, 6)]), source="PsycINFO")
    import_file(review, ris_bytes([work(1, id="d"), work(6)]), source="ASSIA")
    import_file(review, ris_bytes([work(7)]), source="Experts", kind="other")
    c = prisma_counts(review)
    assert (c.databases, c.other_sources) == ({"ASSIA": 2, "PsycINFO": 5}, {"Experts": 1})
    assert (c.duplicates_removed, c.screened, c.other_sought) == (1, 6, 1)
    reconciles(c)
    records = {r.source_id: r for r in Record.objects.filter(duplicate_of=None)}
    for person in (reviewer, reviewer2):
        record_decision(record=records["E1"], stage="ta", reviewer=person, value="include")
        record_decision(record=records["E2"], stage="ta", reviewer=person, value="include")
        record_decision(record=records["E3"], stage="ta", reviewer=person, value="exclude")
    c = prisma_counts(review)
    assert (c.screening_excluded, c.sought, c.assessed) == (1, 2, 2)
    mark_not_retrieved(records["E2"], "Library could not supply it", lead)
    for person in (reviewer, reviewer2):
        record_decision(
            record=records["E1"], stage="ft", reviewer=person, value="exclude", reason=reason
        )
        record_decision(record=records["E7"], stage="ft", reviewer=person, value="include")
    c = prisma_counts(review)
    assert (c.not_retrieved, c.assessed, c.excluded_reasons) == (1, 1, {"Not peer reviewed": 1})
    assert (c.studies_included, c.reports_included, c.other_assessed) == (1, 1, 1)
    reconciles(c)


def test_seed_flow_end_to_end(review, reviewer, reviewer2, lead):
    """Six databases, 4,892 entries of which 1,363 duplicates; 3,529 screened by two
    reviewers; 96 sought, 12 not retrieved, 84 assessed, 62 excluded for the seed's seven
    reasons, 22 included."""
    reasons = [ExclusionReason.objects.create(review=review, text=t, position=i)
               for i, t in enumerate(SEED_REASONS)]  # fmt: skip
    config = config_for(review)
    assert config.reviewers_per_record == 2
    databases = ["PsycINFO", "ASSIA", "Social Care Online", "Web of Science", "SSCI",
                 "Social Policy and Practice"]  # fmt: skip
    works = [work(n) for n in range(3529)]
    for i, name in enumerate(databases):
        chunk = works[i::6]
        # Every database also returns some works another database found (same DOI).
        repeats = [dict(w, id=f"{name}-{w['id']}") for w in works[(i + 1) % 6 :: 6][:228]]
        import_file(review, ris_bytes(chunk + repeats[: 1363 // 6 + (i < 1363 % 6)]), source=name)
    c = prisma_counts(review)
    assert (c.databases_total, c.duplicates_removed, c.screened) == (4892, 1363, 3529)

    kept = list(Record.objects.filter(review=review, duplicate_of=None).order_by("id"))
    included_ta, excluded_ta = kept[:96], kept[96:]
    for record in excluded_ta:
        for person in (reviewer, reviewer2):
            record_decision(record=record, stage="ta", reviewer=person, value="exclude")
    for n, record in enumerate(included_ta):
        # A few conflicts on the way, settled by the lead.
        record_decision(record=record, stage="ta", reviewer=reviewer, value="include")
        record_decision(
            record=record,
            stage="ta",
            reviewer=reviewer2,
            value="exclude" if n % 10 == 0 else "maybe",
        )
        if n % 10 == 0:
            resolve_conflict(
                record=record,
                stage="ta",
                user=lead,
                value="include",
                note="Meets the criteria on a closer look",
            )
    for record in included_ta[:12]:
        mark_not_retrieved(record, "Not available from the library or the authors", lead)
    assessed = included_ta[12:]
    for n, record in enumerate(assessed[:62]):
        reason = reasons[n % 7]
        for person in (reviewer, reviewer2):
            record_decision(
                record=record, stage="ft", reviewer=person, value="exclude", reason=reason
            )
    for record in assessed[62:]:
        for person in (reviewer, reviewer2):
            record_decision(record=record, stage="ft", reviewer=person, value="include")

    c = prisma_counts(review)
    assert (c.screened, c.screening_excluded, c.sought) == (3529, 3433, 96)
    assert (c.not_retrieved, c.assessed, sum(c.excluded_reasons.values())) == (12, 84, 62)
    assert list(c.excluded_reasons) == SEED_REASONS
    assert (c.studies_included, c.reports_included) == (22, 22)
    assert c.notes == []
    reconciles(c)
    rows = {label: n for _phase, label, n in render_table_rows(c)}
    assert rows["Records screened"] == 3529 and rows["Studies included in review"] == 22
