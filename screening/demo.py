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
