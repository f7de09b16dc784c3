"""The demo review's Advisory Group: seven members (as in the seed), a plain-language summary,
the six themes shared in plain words with a few quotes, comments and replies, "you said, we
did" responses with a theme revision, and a meeting with actions. All demo text."""

import datetime

from django.db import transaction
from django.utils import timezone

from coding.codebook import descendant_ids
from coding.models import Code, Excerpt
from coding.revisions import record_change
from reviewapp.accounts import ensure_user
from reviewapp.models import Membership, Role

from .comments import post_comment, respond
from .models import (
    AdvisorySpace,
    Meeting,
    MeetingAction,
    Notification,
    SharedExcerpt,
    SharedTheme,
)
from .redaction import add_redaction

SUMMARY = (
    "[Demo] We are looking at research about people who use mental health social care in "
    "England, and the harm that could have been avoided: harm to how people feel and to "
    "their lives, not physical injury.\n\n"
    "We found 22 studies. We grouped what people said into six themes. We would like to know "
    "if the themes make sense to you, if the words are right, and what we have missed."
)
PLAIN = {
    "Poor relationships and communication with practitioners": (
        "Not being listened to by staff",
        "Staff who followed forms instead of talking, kept their distance, or judged people.",
        "",
    ),
    "Information, involvement, and decision-making": (
        "Not being told or involved",
        "Decisions made about people without them, and money matters nobody explained.",
        "",
    ),
    "Lack of support or support that fails to meet needs": (
        "Help that did not help",
        "Support that ended, came too late, or ignored who the person is.",
        "mentions of domestic violence and worsening mental health",
    ),
    "Inflexible, bureaucratic systems": (
        "Forms and processes",
        "Long, confusing assessments and paperwork.",
        "",
    ),
    "Fragmented services and discontinuity": (
        "Services that do not join up",
        "Agencies that did not talk to each other, and 'passing the buck'.",
        "",
    ),
    "'Power over' and discriminatory organisational cultures": (
        "Power and discrimination",
        "Feeling controlled by services, restrictive housing rules, and parents judged unfit.",
        "mentions of detention and of children being taken into care",
    ),
}
EXTRA_MEMBERS = ["Bea", "Chidi", "Dev", "Eilidh", "Farah", "Gus"]


@transaction.atomic
def seed_demo_advisory(review, lead):
    """Runs once: does nothing when the review already shares a theme."""
    if SharedTheme.objects.filter(review=review).exists():
        return
    members = list(
        Membership.objects.filter(review=review, role=Role.ADVISORY).select_related("user")
    )
    for n, name in enumerate(EXTRA_MEMBERS, 2):
        # No password: demo people who never sign in.
        user, _ = ensure_user(f"advisory{n}@demo.example", name=f"{name} (demo)")
        member, _ = Membership.objects.get_or_create(
            review=review, user=user, defaults={"role": Role.ADVISORY}
        )
        members.append(member)
    people = [m.user for m in members]
    AdvisorySpace.objects.update_or_create(
        review=review, defaults={"summary": SUMMARY, "updated_by": lead}
    )
    themes = []
    for position, code in enumerate(Code.objects.filter(review=review, parent=None)):
        title, description, note = PLAIN.get(code.name, (code.name, code.description, ""))
        shared = SharedTheme.objects.create(
            review=review, theme=code, plain_title=title, plain_description=description,
            content_note=note, shared=True, shared_at=timezone.now(), position=position,
        )  # fmt: skip
        excerpts = Excerpt.objects.filter(review=review, codes__in=descendant_ids(code)).distinct()[
            :2
        ]
        for n, excerpt in enumerate(excerpts):
            item = SharedExcerpt.objects.create(
                shared_theme=shared, excerpt=excerpt, shared_by=lead, position=n, visible=True,
                content_note=note,
            )  # fmt: skip
            if "a relative" in excerpt.text:  # the group sees a pseudonymised quote
                add_redaction(shared_excerpt=item, quote="a relative",
                              replacement="[a family member]")  # fmt: skip
        themes.append(shared)
    if not themes or len(people) < 3:
        return
    first = post_comment(
        shared_theme=themes[0], author=people[0],
        body="[Demo] 'Not being listened to' is right, but it was also about being believed.",
    )  # fmt: skip
    post_comment(shared_theme=themes[0], author=lead, parent=first,
                 body="[Demo] Thank you. Should 'believed' be in the title?")  # fmt: skip
    post_comment(shared_theme=themes[0], author=people[1], parent=first,
                 body="[Demo] Yes: being believed is the heart of it for me.")  # fmt: skip
    revision = record_change(
        theme=themes[0].theme, user=lead, reason="Advisory Group: it is about being believed.",
        before={"plain_title": themes[0].plain_title},
        after={"plain_title": "Not being listened to or believed"},
    )  # fmt: skip
    themes[0].plain_title = "Not being listened to or believed"
    themes[0].save(update_fields=["plain_title"])
    respond(comment=first, author=lead, changed=True, revision=revision,
            text="[Demo] We renamed the theme 'Not being listened to or believed'.")  # fmt: skip
    second = post_comment(
        shared_theme=themes[3], author=people[2],
        body="[Demo] The forms were the worst part. Could you say more about who helps with them?",
    )  # fmt: skip
    respond(
        comment=second,
        author=lead,
        changed=False,
        text="[Demo] The studies say little about this; we note it as a gap in the paper.",
    )
    post_comment(shared_theme=themes[4], author=people[3],
                 body="[Demo] 'Passing the buck' is exactly the phrase people use.")  # fmt: skip
    # Demo people have no real inbox: their notifications count as dealt with.
    Notification.objects.filter(comment__review=review, sent_at=None).update(
        sent_at=timezone.now(), last_error="demo data: not sent"
    )
    meeting = Meeting.objects.create(
        review=review, date=datetime.date(2022, 3, 14), title="[Demo] Themes workshop",
        agenda="1. The six themes\n2. Words that fit\n3. What is missing",
        notes="[Demo] The group felt theme 1 should mention being believed. "
        "Two members asked for shorter summaries.", created_by=lead,
    )  # fmt: skip
    meeting.attendees.set([lead, *people[:5]])
    MeetingAction.objects.create(meeting=meeting, text="Rename theme 1", owner=lead, done=True,
                                 done_at=timezone.now())  # fmt: skip
    MeetingAction.objects.create(meeting=meeting, text="Write shorter theme summaries",
                                 owner=lead)  # fmt: skip
