"""The demo review, modelled on Carr et al. (2023). Later issues add records, decisions,
excerpts and Advisory Group activity here so the demo always shows every feature."""

from django.db import transaction

from .accounts import ensure_user
from .models import Membership, Review, Role

DEMO_SLUG = "demo"

TITLE = "Avoidable harm in mental health social care (demo)"
QUESTION = (
    "What is known from peer-reviewed literature about mental health service user "
    "experiences of social and psychological harm in social care in England?"
)
DESCRIPTION = """\
This demo review follows a scoping review of how adults using community-based mental health \
social care in England experience social and psychological harm that could have been avoided.

The team searched six databases (PsycINFO, ASSIA, Social Care Online, Web of Science, SSCI and \
Social Policy and Practice) and asked experts and Advisory Group members for further studies. \
Two reviewers screen every title and abstract independently; full texts are assessed against \
seven exclusion criteria; the findings of included studies are coded into themes of harm.

An Advisory Group of people with lived experience of mental health services, or practitioner \
experience, comments on the themes as they take shape, and the team records what changed as a \
result.

Everything in this demo review is made up for demonstration."""

# Demo accounts only: the passwords are printed by seed_demo and must never be used elsewhere.
DEMO_USERS = [
    ("lead@demo.example", "Demo Lead", Role.LEAD, "demo-lead-password"),
    ("reviewer1@demo.example", "Demo Reviewer One", Role.REVIEWER, "demo-reviewer-password"),
    ("reviewer2@demo.example", "Demo Reviewer Two", Role.REVIEWER, "demo-reviewer-password"),
    ("advisory@demo.example", "Demo Advisory Member", Role.ADVISORY, "demo-advisory-password"),
]


@transaction.atomic
def seed_demo():
    """Create or refresh the demo review; running it again changes nothing but passwords."""
    users = [
        (ensure_user(email, name=name, password=pw)[0], role, pw)
        for email, name, role, pw in DEMO_USERS
    ]
    review, _ = Review.objects.update_or_create(
        slug=DEMO_SLUG,
        defaults={
            "title": TITLE,
            "question": QUESTION,
            "description": DESCRIPTION,
            "created_by": users[0][0],
        },
    )
    for user, role, _pw in users:
        Membership.objects.update_or_create(review=review, user=user, defaults={"role": role})
    from screening.demo import seed_demo_records, seed_demo_screening

    seed_demo_records(review, users[0][0])
    seed_demo_screening(review, users[0][0], [users[1][0], users[2][0]])
    from coding.demo import seed_demo_coding

    seed_demo_coding(review, users[0][0], [users[1][0], users[2][0]])
    from advisory.demo import seed_demo_advisory

    seed_demo_advisory(review, users[0][0])
    return review, [(user.email, role, pw) for user, role, pw in users]
