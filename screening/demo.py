"""Demo search results for the demo review: generated records across the seed's six
databases plus expert recommendations, with planted duplicates, imported through the real
pipeline so the import history, records and duplicates queue look as they would in use.

Every title starts with "[Demo]" and every abstract says it was generated."""

import io
import random

from django.core.files.uploadedfile import SimpleUploadedFile

from .importing import run_import
from .models import ImportBatch
from .services import create_import_batch

DATABASES = [
    ("PsycINFO", 620), ("ASSIA", 540), ("Social Care Online", 480), ("Web of Science", 560),
    ("SSCI", 430), ("Social Policy and Practice", 390),
]  # fmt: skip
OTHER_METHODS = [("Expert and Advisory Group recommendations", 25)]

TOPICS = [
    "care planning", "personal budgets", "safeguarding responses", "assessment protocols",
    "discharge from services", "supported accommodation", "parenting with mental distress",
    "communication with social workers", "waiting lists", "integration of services",
    "Mental Health Act assessments", "peer support", "crisis care", "carers' involvement",
    "direct payments", "housing support", "recovery colleges", "community mental health teams",
]  # fmt: skip
GROUPS = [
    "adults using community mental health services", "service users in England",
    "people with psychosis", "older adults with depression", "young adults aged 18-25",
    "Black and minority ethnic service users", "parents with mental health problems",
    "people with personality disorder diagnoses", "social work practitioners",
]  # fmt: skip
DESIGNS = [
    "a qualitative interview study",
    "a survey",
    "a mixed-methods evaluation",
    "a case study",
    "a realist review",
    "a cohort study",
    "a focus group study",
]
OUTCOMES = [
    "feelings of disempowerment",
    "trust in practitioners",
    "unmet needs",
    "experiences of harm",
    "continuity of care",
    "choice and control",
]
JOURNALS = [
    "Demo Journal of Social Work",
    "Demo Health and Social Care in the Community",
    "Demo Journal of Mental Health",
    "Demo British Journal of Social Work",
    "Demo Social Policy Review",
    "Demo Disability and Society",
]
SURNAMES = [
    "Ahmed",
    "Baker",
    "Carr",
    "Davies",
    "Evans",
    "Fisher",
    "Green",
    "Hughes",
    "Iqbal",
    "Jones",
    "Khan",
    "Lewis",
    "Morgan",
    "Nwosu",
    "Owen",
    "Patel",
    "Quinn",
    "Roberts",
    "Singh",
    "Taylor",
    "Usman",
    "Walker",
    "Young",
]
INITIALS = "ABCDEFGHJKLMNPRST"


def _work(rng, n):
    topic, group, design = rng.choice(TOPICS), rng.choice(GROUPS), rng.choice(DESIGNS)
    outcome = rng.choice(OUTCOMES)
    return {
        "title": f"[Demo] {topic.capitalize()} and {outcome} among {group}: {design} ({n})",
        "abstract": (
            f"Demo abstract (generated, not a real study). This {design} explores {topic} "
            f"and {outcome} among {group}. Participants described their contact with "
            f"social care and mental health services. Findings are invented for the demo."
        ),
        "authors": [
            f"{rng.choice(SURNAMES)}, {rng.choice(INITIALS)}." for _ in range(rng.randint(1, 4))
        ],
        "year": rng.randint(2004, 2022),
        "journal": rng.choice(JOURNALS),
        "volume": str(rng.randint(10, 60)),
        "issue": str(rng.randint(1, 6)),
        "start": rng.randint(1, 900),
        "doi": f"10.5555/demo.{n:05d}" if rng.random() < 0.7 else "",
        "keywords": rng.sample(TOPICS, 2),
    }


def _ris(works, db_name):
    out = io.StringIO()
    for i, w in enumerate(works, 1):
        out.write("TY  - JOUR\n")
        out.write(f"ID  - {db_name[:3].upper()}{i:05d}\n")
        out.write(f"TI  - {w['title']}\n")
        for author in w["authors"]:
            out.write(f"AU  - {author}\n")
        out.write(f"PY  - {w['year']}\nJO  - {w['journal']}\nVL  - {w['volume']}\n")
        out.write(f"IS  - {w['issue']}\nSP  - {w['start']}\nEP  - {w['start'] + 14}\n")
        if w["doi"]:
            out.write(f"DO  - {w['doi']}\n")
        for keyword in w["keywords"]:
            out.write(f"KW  - {keyword}\n")
        out.write(f"AB  - {w['abstract']}\nDB  - {db_name} (demo)\nER  - \n\n")
    return out.getvalue().encode("utf-8")


def _variant(rng, work):
    """The same work as another database exports it: small differences in the fields."""
    copy = dict(work)
    roll = rng.random()
    if roll < 0.15:
        copy["title"] = copy["title"].upper()
    elif roll < 0.35:
        copy["title"] = copy["title"].replace(": ", " - ")
    if rng.random() < 0.3:
        copy["doi"] = ""
    # A few records disagree on details that forbid an automatic merge (a year two apart,
    # a mistyped first page): these wait in the duplicates queue for a person.
    roll = rng.random()
    if roll < 0.02:
        copy["year"] += 2
        copy["doi"] = ""
    elif roll < 0.04:
        copy["start"] += 100
        copy["doi"] = ""
    return copy


def seed_demo_records(review, user):
    """Import the demo searches once; does nothing when the review already has imports."""
    if ImportBatch.objects.filter(review=review).exists():
        return 0
    rng = random.Random(2023)
    pool = [_work(rng, n) for n in range(1, 2601)]
    batches = 0
    for db_name, size in DATABASES + OTHER_METHODS:
        works = rng.sample(pool, size)
        works = [_variant(rng, w) for w in works]
        upload = SimpleUploadedFile(
            f"{db_name.lower().replace(' ', '-')}-demo.ris",
            _ris(works, db_name),
            content_type="text/plain",
        )
        kind = (
            ImportBatch.Kind.OTHER
            if (db_name, size) in OTHER_METHODS
            else ImportBatch.Kind.DATABASE
        )
        batch, _ = create_import_batch(
            review=review, user=user, upload=upload, source=db_name, kind=kind, run=False
        )
        run_import(batch)
        batches += 1
    return batches


SEED_REASONS = [
    "Published in or before 2007", "Not in English", "Participants under 15",
    "Not a community setting", "Participants not service users",
    "Not accessing support for mental health", "Not peer reviewed",
]  # fmt: skip
CRITERIA = (
    "Include: any design exploring adult service users' experiences of accessing "
    "community-based social care or social work for their mental health in England, "
    "published after 2007 in a peer-reviewed journal, in English.\n"
    "Exclude: published in or before 2007; not in English; participants under 15; not a "
    "community setting; participants not service users; not accessing support for mental "
    "health; not peer reviewed."
)
INCLUDE_TERMS = [
    "social care",
    "social work*",
    "service user*",
    "care planning",
    "personal budget*",
    "safeguarding",
]
EXCLUDE_TERMS = ["inpatient*", "child*", "adolescen*", "hospital ward*"]


def seed_demo_screening(review, lead, reviewers):
    """Screening in progress: two reviewers' decisions, conflicts waiting, records awaiting
    a second reviewer, full texts (links, one not retrieved) and included studies. Runs
    once: does nothing when the review already has decisions."""
    from .decisions import record_decision, resolve_conflict
    from .fulltexts import attach_link, mark_not_retrieved
    from .models import Decision, ExclusionReason, Record, RecordStage
    from .settings_services import (
        set_exclusion_reasons,
        set_highlight_terms,
        update_screening_config,
    )

    if Decision.objects.filter(review=review).exists():
        return
    set_exclusion_reasons(review, SEED_REASONS)
    update_screening_config(
        review=review,
        reviewers_per_record=2,
        blind=True,
        eligibility_criteria=CRITERIA,
        adjudicators=[],
    )
    set_highlight_terms(review, include=INCLUDE_TERMS, exclude=EXCLUDE_TERMS)
    reasons = list(ExclusionReason.objects.filter(review=review))
    first, second = reviewers
    rng = random.Random(7)
    ta_rows = RecordStage.objects.filter(review=review, stage="ta").order_by("order_key")
    records = [row.record for row in ta_rows.select_related("record")[:420]]
    included = []
    for n, record in enumerate(records):
        if n < 360:  # both reviewers have screened these
            roll = rng.random()
            a, b = (
                ("include", "include")
                if roll < 0.07
                else ("include", "exclude")
                if roll < 0.10
                else ("exclude", "exclude")
            )
            record_decision(record=record, stage="ta", reviewer=first, value=a)
            record_decision(
                record=record,
                stage="ta",
                reviewer=second,
                value="maybe" if a == b == "include" and roll < 0.03 else b,
            )
            if a == b == "include":
                included.append(record)
        else:  # only the first reviewer so far: these await a second reviewer
            record_decision(
                record=record,
                stage="ta",
                reviewer=first,
                value="exclude" if rng.random() < 0.9 else "include",
            )
    # The lead has settled some conflicts; the rest wait on the conflicts page.
    conflicts = RecordStage.objects.filter(review=review, stage="ta", status="conflict")
    for row in list(conflicts.select_related("record"))[:3]:
        resolve_conflict(
            record=row.record,
            stage="ta",
            user=lead,
            value="include",
            note="The abstract mentions community mental health social work.",
        )
        included.append(row.record)
    # Full texts: most found online, one not retrieved; two reviewers assess them.
    for n, record in enumerate(included):
        if n == 0:
            mark_not_retrieved(record, "Not held by the library; authors did not reply.", lead)
            continue
        attach_link(record, f"https://example.org/demo-full-text/{record.pk}", lead)
        if n > 12:
            continue  # the rest wait for full-text decisions
        if n % 4 == 1:
            reason = reasons[n % len(reasons)]
            for person in (first, second):
                record_decision(
                    record=record, stage="ft", reviewer=person, value="exclude", reason=reason
                )
        elif n == 2:  # a full-text conflict: different exclusion reasons
            record_decision(
                record=record, stage="ft", reviewer=first, value="exclude", reason=reasons[3]
            )
            record_decision(
                record=record, stage="ft", reviewer=second, value="exclude", reason=reasons[4]
            )
        else:
            for person in (first, second):
                record_decision(record=record, stage="ft", reviewer=person, value="include")
    return Record.objects.filter(review=review, study_report__isnull=False).count()
