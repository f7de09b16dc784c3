"""The involvement report: how the Advisory Group took part in the review, laid out by the
GRIPP2 short form (Staniszewska et al. 2017, BMJ 358:j3453): aim, methods, results,
outcomes, reflections.

`build_report` gathers the data in a fixed number of queries; `write_csv` and `write_docx`
turn it into files. `FORMATS` names each file format for the export path.

Advisory members appear as "Member A", "Member B"... (in the order of their first comment)
and researchers by their role, unless the lead chooses names; even then a name is
`User.name`, never any part of an email address.
"""

import csv
import io
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

import docx
from django.utils import timezone

from coding.revisions import changes
from reviewapp.models import Membership, Role

from .models import AdvisorySpace, Comment, CommentResponse, Meeting, SharedTheme

SECTIONS = (
    "1. Aim",
    "2. Methods",
    "3. Results",
    "4. Outcomes and discussion",
    "5. Reflections and critical perspective",
)

GROUP_ROLE = (
    "The Advisory Group brings together people with lived experience of the review's topic. "
    "The team shared the review's themes with the group in plain language, with chosen "
    "excerpts from the studies; members commented on them, in writing and at meetings, and "
    "the team replied to each comment saying what changed because of it, or why nothing did."
)

REFLECTIONS_GUIDANCE = (
    "This section is for the team to write, with the Advisory Group: the report cannot fill "
    "it in. GRIPP2 asks you to comment critically on the involvement: what went well and "
    "what did not, what you would do differently, and what others can learn from it. Ask "
    "the members how it was for them, in their own words."
)

NO_SUMMARY = "(No plain-language summary of the review has been written yet.)"
WITHDRAWN_TEXT = "(Withdrawn by its author: the text is not included.)"
FORMER_MEMBER = "A former member"
RESEARCHER_NAMES = {Role.LEAD: "Lead researcher", Role.REVIEWER: "Researcher"}

# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

# XML 1.0 forbids these characters, and python-docx refuses text that holds them; a comment
# pasted from elsewhere can carry one.
XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

# Meeting.other_attendees is free text; people are listed one per line or separated by
# commas or semicolons.
ATTENDEE_SEPARATORS = re.compile(r"[,;\n]")


@dataclass
class ResponseEntry:
    text: str
    changed: bool
    revision_id: int | None
    revision_summary: str


@dataclass
class CommentEntry:
    id: int
    parent_id: int | None
    theme: str
    excerpt_id: int | None
    author: str  # empty for a withdrawn comment
    created_at: datetime
    text: str  # empty for a withdrawn comment
    withdrawn: bool
    depth: int  # 0 for a comment, 1 for a reply to it, ...
    response: ResponseEntry | None


@dataclass
class ThemeEntry:
    title: str
    shared: bool
    shared_at: datetime | None
    comments: list[CommentEntry] = field(default_factory=list)

    @property
    def comment_count(self):
        return len(self.comments)

    @property
    def withdrawn_count(self):
        return sum(comment.withdrawn for comment in self.comments)


@dataclass
class MeetingEntry:
    date: date
    title: str
    advisory_attending: int
    researchers_attending: int
    others_attending: int  # former members, and people without an account

    @property
    def attendance(self):
        return self.advisory_attending + self.researchers_attending + self.others_attending


@dataclass
class OutcomeEntry:
    """A theme revision that a response links to, with the comments that prompted it."""

    revision_id: int
    theme: str
    created_at: datetime
    reason: str
    changes: list[str]
    comments: list[CommentEntry]


@dataclass
class Report:
    review_title: str
    slug: str
    generated_at: datetime
    pseudonymised: bool
    # 1. Aim
    summary: str
    group_role: str
    # 2. Methods
    advisory_members: int
    meetings: list[MeetingEntry]
    comment_count: int
    group_comment_count: int  # by the group (not researchers), withdrawn ones included
    researcher_comment_count: int
    withdrawn_count: int
    # 3. Results (shared themes, and unshared ones that still hold comments)
    themes: list[ThemeEntry]
    # 4. Outcomes
    outcomes: list[OutcomeEntry]
    led_to_change: int
    no_change: int
    awaiting_response: int  # the group's comments, not withdrawn, with no response yet
    # 5. Reflections
    reflections_guidance: str
    sections: tuple = SECTIONS

    @property
    def shared_themes(self):
        return [theme for theme in self.themes if theme.shared]

    @property
    def naming_note(self):
        if self.pseudonymised:
            return (
                "Advisory members are shown as Member A, Member B and so on, lettered in the "
                "order of their first comment; researchers are shown by their role. The text "
                "of a withdrawn comment, and who wrote it, are left out."
            )
        return (
            "Members are shown by name, as the lead researcher chose for this copy. The text "
            "of a withdrawn comment, and who wrote it, are left out."
        )


def letters(index):
    """0 -> "A", 25 -> "Z", 26 -> "AA": as spreadsheets letter their columns."""
    out = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        out = chr(ord("A") + rest) + out
    return out


def describe(change):
    """One readable line for a coding.revisions.Change."""
    if change.kind == "added":
        return f"Theme added: “{change.new}”"
    if change.kind == "removed":
        return f"Theme removed: “{change.old}”"
    if change.kind == "list":
        if change.reordered:
            return f"{change.label}: put in a new order"
        parts = []
        if change.added:
            parts.append("added " + ", ".join(f"“{item}”" for item in change.added))
        if change.removed:
            parts.append("removed " + ", ".join(f"“{item}”" for item in change.removed))
        return f"{change.label}: " + "; ".join(parts)
    if not change.old:
        return f"{change.label} set to “{change.new}”"
    if not change.new:
        return f"{change.label} cleared (was “{change.old}”)"
    return f"{change.label} changed from “{change.old}” to “{change.new}”"


def _people(review, comments, pseudonymise):
    """({user id: shown name}, {user id: role}, number of advisory members) for the
    review's members. Advisory members are lettered in the order of their first comment that
    is not withdrawn."""
    members = {
        user_id: (role, name)
        for user_id, role, name in Membership.objects.filter(review=review)
        .order_by()
        .values_list("user_id", "role", "user__name")
    }
    pseudonyms = {}
    for comment in comments:
        if comment.withdrawn or comment.author_id in pseudonyms:
            continue
        role, _ = members.get(comment.author_id, (None, ""))
        if role == Role.ADVISORY:
            pseudonyms[comment.author_id] = f"Member {letters(len(pseudonyms))}"
    shown = {}
    for user_id, (role, name) in members.items():
        label = pseudonyms.get(user_id) or RESEARCHER_NAMES.get(role) or "Advisory Group member"
        shown[user_id] = label if pseudonymise else (name.strip() or label)
    roles = {user_id: role for user_id, (role, _) in members.items()}
    return shown, roles, sum(role == Role.ADVISORY for role, _ in members.values())


def _response(comment):
    try:
        response = comment.response
    except CommentResponse.DoesNotExist:
        return None
    summary = ""
    if response.revision is not None:
        summary = "; ".join(describe(change) for change in changes(response.revision))
    return ResponseEntry(
        text=response.text,
        changed=response.changed,
        revision_id=response.revision_id,
        revision_summary=summary,
    )


def _thread_order(comments):
    """Each comment followed by its replies (depth first), as (comment, depth)."""
    replies = defaultdict(list)
    ids = {comment.pk for comment in comments}
    roots = []
    for comment in comments:
        if comment.parent_id in ids:
            replies[comment.parent_id].append(comment)
        else:
            roots.append(comment)
    ordered = []
    stack = [(root, 0) for root in reversed(roots)]
    while stack:
        comment, depth = stack.pop()
        ordered.append((comment, depth))
        stack.extend((reply, depth + 1) for reply in reversed(replies[comment.pk]))
    return ordered


def _meetings(review, roles):
    meetings = list(Meeting.objects.filter(review=review).order_by("date", "id"))
    attended = defaultdict(list)
    for meeting_id, user_id in (
        Meeting.attendees.through.objects.filter(meeting__review=review)
        .order_by()
        .values_list("meeting_id", "user_id")
    ):
        attended[meeting_id].append(user_id)
    entries = []
    for meeting in meetings:
        counts = Counter(roles.get(user_id) for user_id in attended[meeting.pk])
        others = [p for p in ATTENDEE_SEPARATORS.split(meeting.other_attendees) if p.strip()]
        entries.append(
            MeetingEntry(
                date=meeting.date,
                title=meeting.title,
                advisory_attending=counts[Role.ADVISORY],
                researchers_attending=counts[Role.LEAD] + counts[Role.REVIEWER],
                others_attending=counts[None] + len(others),
            )
        )
    return entries


def build_report(review, *, pseudonymise=True):
    """The involvement report's data for `review`, from six queries whatever its size.

    `pseudonymise=False` names members (User.name); only the lead's explicit choice should
    pass it."""
    space = AdvisorySpace.objects.filter(review=review).only("summary").first()
    comments = list(
        Comment.objects.filter(review=review)
        .select_related("shared_excerpt", "response__revision")
        .order_by("created_at", "id")
    )
    shown, roles, advisory_members = _people(review, comments, pseudonymise)

    by_theme = defaultdict(list)
    for comment in comments:
        by_theme[comment.shared_theme_id].append(comment)
    themes, entries = [], {}
    for shared_theme in (
        SharedTheme.objects.filter(review=review)
        .select_related("theme")
        .order_by("position", "theme__position", "id")
    ):
        if not shared_theme.shared and not by_theme[shared_theme.pk]:
            continue
        theme = ThemeEntry(
            title=shared_theme.title, shared=shared_theme.shared, shared_at=shared_theme.shared_at
        )
        for comment, depth in _thread_order(by_theme[shared_theme.pk]):
            entry = CommentEntry(
                id=comment.pk,
                parent_id=comment.parent_id,
                theme=theme.title,
                excerpt_id=comment.shared_excerpt.excerpt_id if comment.shared_excerpt else None,
                author="" if comment.withdrawn else shown.get(comment.author_id, FORMER_MEMBER),
                created_at=comment.created_at,
                text="" if comment.withdrawn else comment.body,
                withdrawn=comment.withdrawn,
                depth=depth,
                response=_response(comment),
            )
            theme.comments.append(entry)
            entries[comment.pk] = entry
        themes.append(theme)

    researchers = {user_id for user_id, role in roles.items() if role in RESEARCHER_NAMES}
    group_comments = [c for c in comments if c.author_id not in researchers]

    outcomes = {}
    for comment in comments:
        response = entries[comment.pk].response
        if response is None or response.revision_id is None:
            continue
        revision = comment.response.revision
        if revision.pk not in outcomes:
            outcomes[revision.pk] = OutcomeEntry(
                revision_id=revision.pk,
                theme=revision.theme_name,
                created_at=revision.created_at,
                reason=revision.reason,
                changes=[describe(change) for change in changes(revision)],
                comments=[],
            )
        outcomes[revision.pk].comments.append(entries[comment.pk])

    responses = [entries[c.pk].response for c in comments if entries[c.pk].response]
    return Report(
        review_title=review.title,
        slug=review.slug,
        generated_at=timezone.now(),
        pseudonymised=pseudonymise,
        summary=(space.summary.strip() if space else "") or NO_SUMMARY,
        group_role=GROUP_ROLE,
        advisory_members=advisory_members,
        meetings=_meetings(review, roles),
        comment_count=len(comments),
        group_comment_count=len(group_comments),
        researcher_comment_count=len(comments) - len(group_comments),
        withdrawn_count=sum(c.withdrawn for c in comments),
        themes=themes,
        outcomes=sorted(outcomes.values(), key=lambda o: (o.created_at, o.revision_id)),
        led_to_change=sum(r.changed for r in responses),
        no_change=sum(not r.changed for r in responses),
        awaiting_response=sum(
            not c.withdrawn and entries[c.pk].response is None for c in group_comments
        ),
        reflections_guidance=REFLECTIONS_GUIDANCE,
    )


def _day(value):
    if isinstance(value, datetime):
        value = timezone.localdate(value)
    return value.isoformat() if value else ""


def _cell(value):
    """Text for a CSV cell a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


CSV_HEADER = [
    "section", "theme", "excerpt id", "comment id", "parent id", "author", "date",
    "comment text", "withdrawn", "response", "changed", "revision id", "revision summary",
]  # fmt: skip


def write_csv(report):
    """One row per comment, in UTF-8 with a byte order mark (so Excel reads it as UTF-8)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for theme in report.themes:
        for comment in theme.comments:
            response = comment.response
            writer.writerow(
                [_cell(value) for value in (
                    SECTIONS[2], theme.title, comment.excerpt_id, comment.id, comment.parent_id,
                    comment.author, _day(comment.created_at), comment.text,
                    "yes" if comment.withdrawn else "no",
                    response.text if response else "",
                    ("yes" if response.changed else "no") if response else "",
                    response.revision_id if response else "",
                    response.revision_summary if response else "",
                )]
            )  # fmt: skip
    return out.getvalue().encode("utf-8-sig")


def _long_day(value):
    if isinstance(value, datetime):
        value = timezone.localdate(value)
    return f"{value.day} {value:%B %Y}"


def _text(value):
    return XML_INVALID.sub("", str(value))


def _table(document, header, rows):
    table = document.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = _text(text)
        for run in cell.paragraphs[0].runs:
            run.bold = True
    for row in rows:
        for cell, text in zip(table.add_row().cells, row, strict=True):
            cell.text = _text(text)
    return table


def _plural(count, one, many=None):
    return f"{count} {one if count == 1 else (many or one + 's')}"


def _comment_cells(comment):
    place = f"#{comment.id}"
    if comment.parent_id:
        place += f", reply to #{comment.parent_id}"
    if comment.excerpt_id:
        place += f", on excerpt {comment.excerpt_id}"
    response = comment.response
    if response is None:
        answer = "No response yet."
    else:
        answer = ("Changed: " if response.changed else "Not changed: ") + response.text
        if response.revision_summary:
            answer += f" (revision {response.revision_id}: {response.revision_summary})"
    return [
        place,
        comment.author or "",
        _long_day(comment.created_at),
        WITHDRAWN_TEXT if comment.withdrawn else comment.text,
        answer,
    ]


def write_docx(report):
    """A Word document with a heading per GRIPP2 section; its properties name no person."""
    document = docx.Document()
    properties = document.core_properties
    properties.author = properties.last_modified_by = "reviewapp"
    properties.comments = ""
    properties.title = _text(f"Involvement report: {report.review_title}")
    properties.created = properties.modified = report.generated_at

    def para(text, style=None):
        return document.add_paragraph(_text(text), style=style)

    document.add_heading(_text(f"Involvement report: {report.review_title}"), level=0)
    para(
        f"Patient and public involvement in this review, reported with the GRIPP2 short form "
        f"(Staniszewska et al. 2017). Made on {_long_day(report.generated_at)}. "
        + report.naming_note
    )

    document.add_heading(SECTIONS[0], level=1)
    para(report.summary)
    para(report.group_role)

    document.add_heading(SECTIONS[1], level=1)
    para(
        f"The Advisory Group has {_plural(report.advisory_members, 'member')}. "
        f"{_plural(len(report.meetings), 'meeting')} held; "
        f"{_plural(len(report.shared_themes), 'theme')} shared for comment; "
        f"{_plural(report.comment_count, 'comment')} in all "
        f"({report.group_comment_count} from the group, "
        f"{report.researcher_comment_count} from researchers, "
        f"{report.withdrawn_count} withdrawn)."
    )
    document.add_heading("Meetings", level=2)
    if report.meetings:
        _table(
            document,
            ["Date", "Meeting", "Advisory members", "Researchers", "Others", "Attendance"],
            [
                [_long_day(m.date), m.title, m.advisory_attending, m.researchers_attending,
                 m.others_attending, m.attendance]
                for m in report.meetings
            ],
        )  # fmt: skip
    else:
        para("No meetings recorded.")
    document.add_heading("Comment rounds", level=2)
    if report.shared_themes:
        _table(
            document,
            ["Theme", "Shared on", "Comments"],
            [
                [t.title, _long_day(t.shared_at) if t.shared_at else "", t.comment_count]
                for t in report.shared_themes
            ],
        )
    else:
        para("No themes shared yet.")

    document.add_heading(SECTIONS[2], level=1)
    if not report.themes:
        para("No comments yet.")
    for theme in report.themes:
        document.add_heading(theme.title, level=2)
        summary = _plural(theme.comment_count, "comment")
        if theme.withdrawn_count:
            summary += f", of which {theme.withdrawn_count} withdrawn"
        if not theme.shared:
            summary += "; this theme is no longer shared with the group"
        para(summary + ".")
        if theme.comments:
            _table(
                document,
                ["Comment", "From", "Date", "Comment", "Response"],
                [_comment_cells(comment) for comment in theme.comments],
            )

    document.add_heading(SECTIONS[3], level=1)
    para(
        f"{_plural(report.led_to_change, 'comment')} led to a change; "
        f"{report.no_change} did not (the team said why); "
        f"{report.awaiting_response} from the group still await a response."
    )
    if report.outcomes:
        document.add_heading("Changes to the themes prompted by comments", level=2)
    for outcome in report.outcomes:
        heading = f"{outcome.theme}, revised on {_long_day(outcome.created_at)}"
        para(f"{heading} (revision {outcome.revision_id})", style="List Bullet")
        for change in outcome.changes:
            para(change, style="List Bullet 2")
        if outcome.reason:
            para(f"Why: {outcome.reason}", style="List Bullet 2")
        for comment in outcome.comments:
            source = WITHDRAWN_TEXT if comment.withdrawn else f"{comment.author}: {comment.text}"
            para(f"Prompted by comment #{comment.id}. {source}", style="List Bullet 2")

    document.add_heading(SECTIONS[4], level=1)
    para(report.reflections_guidance)

    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


FORMATS = {
    "involvement-csv": (write_csv, "text/csv", "csv"),
    "involvement-docx": (
        write_docx,
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "docx",
    ),
}
