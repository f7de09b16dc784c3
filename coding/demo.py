"""The demo review's coding: the seed's six harm themes with their sub-points as codes, a
findings document for each included study, and excerpts coded by the two demo reviewers
(mostly agreeing, sometimes not, so the agreement page has something to show)."""

import random

from django.db import transaction

from screening.models import Study

from .codebook import create_code
from .documents import add_document
from .excerpts import create_excerpt
from .models import Code, Document

# Carr et al. (2023): the six themes and the sub-points listed under each.
THEMES = [
    ("Poor relationships and communication with practitioners", [
        "Practitioners adhering strictly to assessment protocols",
        "Feeling distant or disengaged from the practitioner",
        "Judgement and discrimination by practitioners",
    ]),
    ("Information, involvement, and decision-making", [
        "Not involved in care planning",
        "Not told how personal budgets work",
    ]),
    ("Lack of support or support that fails to meet needs", [
        "Care that does not meet needs",
        "Crucial aspects of identity not taken into account",
        "Lack of funding and staffing, waiting lists, delayed safeguarding",
    ]),
    ("Inflexible, bureaucratic systems", [
        "Complex, lengthy assessment and paperwork",
    ]),
    ("Fragmented services and discontinuity", [
        "Poor integration and communication between services",
        "Passing the buck",
    ]),
    ("'Power over' and discriminatory organisational cultures", [
        "Feeling others have power over them",
        "Overly restrictive supported accommodation",
        "Parents viewed as unfit",
    ]),
]  # fmt: skip

# Demo sentences, one list per sub-point, in the voice of a study's findings section.
SENTENCES = {
    "Practitioners adhering strictly to assessment protocols": [
        "Participants described assessments that followed a script rather than a conversation.",
        "One participant said the worker 'just ticked boxes' and never looked up.",
    ],
    "Feeling distant or disengaged from the practitioner": [
        "Several people felt their care coordinator was distant and hard to reach.",
        "Decisions about care were made without discussing them with the person.",
    ],
    "Judgement and discrimination by practitioners": [
        "Participants reported feeling judged when they disclosed their diagnosis.",
    ],
    "Not involved in care planning": [
        "People were rarely asked what they wanted from their care plan.",
        "Risk was defined for them, not with them, which left them feeling powerless.",
    ],
    "Not told how personal budgets work": [
        "Nobody explained what the personal budget could be spent on.",
    ],
    "Care that does not meet needs": [
        "Support ended abruptly and their mental health deteriorated afterwards.",
        "Family life was disrupted when promised help did not arrive.",
    ],
    "Crucial aspects of identity not taken into account": [
        "Religious practice was not considered when support was arranged.",
    ],
    "Lack of funding and staffing, waiting lists, delayed safeguarding": [
        "Waiting lists of many months meant needs went unmet.",
        "A safeguarding referral took weeks to be acted on.",
    ],
    "Complex, lengthy assessment and paperwork": [
        "The forms were long and confusing; a relative had to fill them in.",
        "Repeated assessments felt exhausting and pointless.",
    ],
    "Poor integration and communication between services": [
        "Health and social care teams did not share information.",
    ],
    "Passing the buck": [
        "Each agency said another was responsible, and nobody acted.",
    ],
    "Feeling others have power over them": [
        "Being under a section of the Mental Health Act made people afraid to speak up.",
    ],
    "Overly restrictive supported accommodation": [
        "House rules in supported accommodation felt like a punishment.",
    ],
    "Parents viewed as unfit": [
        "Parents said they were treated as a risk to their children because of their diagnosis.",
    ],
}
FILLER = [
    "Interviews took place in community settings between 2015 and 2019.",
    "The sample included people of different ages and backgrounds.",
    "Analysis followed a thematic approach agreed with the study's advisory panel.",
]
PREAMBLE = "[Demo text, generated for the reviewapp demonstration; not from a real study.]\n\n"


@transaction.atomic
def seed_demo_codebook(review, lead):
    """The six themes with their sub-points as codes. Runs once."""
    if Code.objects.filter(review=review).exists():
        return
    for name, subpoints in THEMES:
        theme = create_code(review=review, user=lead, name=name,
                            description="Theme from Carr et al. (2023).")  # fmt: skip
        for subpoint in subpoints:
            create_code(review=review, user=lead, name=subpoint, parent=theme)


@transaction.atomic
def seed_demo_coding(review, lead, coders):
    """A findings document per included study, coded by `coders`. Runs once."""
    seed_demo_codebook(review, lead)
    if Document.objects.filter(review=review).exists():
        return
    codes = {c.name: c for c in Code.objects.filter(review=review, parent__isnull=False)}
    themes_of = {c.name: c.parent for c in codes.values()}
    rng = random.Random(11)
    for study in Study.objects.filter(review=review).order_by("pk"):
        picks = rng.sample(sorted(SENTENCES), k=min(6, len(SENTENCES)))
        parts, spans = [PREAMBLE, f"Findings of {study.label}\n\n"], []
        for subpoint in picks:
            parts.append(rng.choice(FILLER) + " ")
            sentence = rng.choice(SENTENCES[subpoint])
            start = sum(len(p) for p in parts)
            parts.append(sentence + "\n\n")
            spans.append((start, start + len(sentence), subpoint))
        text = "".join(parts)
        document = add_document(study=study, title=f"Findings — {study.label}", text=text,
                                source="paste", user=lead)  # fmt: skip
        version = document.versions.get()
        for start, end, subpoint in spans:
            code, theme = codes[subpoint], themes_of[subpoint]
            for n, coder in enumerate(coders):
                roll = rng.random()
                if roll < 0.1 and n == 1:
                    continue  # the second coder missed this passage
                chosen = [code.pk, theme.pk]
                if roll > 0.9 and n == 1:  # a different reading of the same passage
                    other = rng.choice([c for c in codes.values() if c.pk != code.pk])
                    chosen = [other.pk, other.parent_id]
                trim = 0 if n == 0 else rng.choice([0, 0, 4])
                create_excerpt(version=version, coder=coder, start=start + trim, end=end,
                               code_ids=chosen)  # fmt: skip
