"""Advisory Group meetings: the reads the meeting pages share, who may tick an action done,
and every write (a meeting with its attendees and actions, ticking an action, deleting).

Views call these; they never write a Meeting or MeetingAction themselves.
"""

from django.db import transaction
from django.db.models import Count, Q
from django.http import Http404
from django.utils import timezone

from reviewapp.access import is_lead
from reviewapp.models import Membership

from .models import Meeting, MeetingAction

MEETING_FIELDS = ("date", "title", "other_attendees", "agenda", "notes")


class MeetingError(ValueError):
    """A meeting that cannot be saved as it stands; the message says why, in plain words."""


def meetings_with_counts(review):
    """The review's meetings, newest first, each with `n_attendees` (members ticked as
    present) and `n_open` (actions not done yet)."""
    # distinct=True: both counts join through the meeting, so without it each would be
    # multiplied by the other.
    return (
        Meeting.objects.filter(review=review)
        .annotate(
            n_attendees=Count("attendees", distinct=True),
            n_open=Count("actions", filter=Q(actions__done=False), distinct=True),
        )
        .order_by("-date", "-id")
    )


def get_meeting_for(review, meeting_id):
    """The review's meeting, or 404 (another review's meeting id says nothing)."""
    meeting = Meeting.objects.filter(review=review, pk=meeting_id).first()
    if meeting is None:
        raise Http404("No such meeting.")
    return meeting


def get_action_for(meeting, action_id):
    action = MeetingAction.objects.filter(meeting=meeting, pk=action_id).first()
    if action is None:
        raise Http404("No such action.")
    return action


def can_tick(membership, action):
    """The lead may tick any action done or not done; anyone else only an action they own."""
    if is_lead(membership):
        return True
    return (
        membership is not None
        and action.owner_id is not None
        and (action.owner_id == membership.user_id)
    )


def member_ids(review):
    return set(Membership.objects.filter(review=review).values_list("user_id", flat=True))


def _plain(text):
    """Form text with Windows and old-Mac line endings made plain newlines."""
    return (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()


@transaction.atomic
def save_meeting(*, review, author, fields, attendee_ids, actions, meeting=None):
    """Create (meeting=None) or update a meeting, its attendees and its actions, all or
    nothing.

    fields: MEETING_FIELDS -> values. attendee_ids: user ids; each must be a member of the
    review, or already an attendee (so a former member is not dropped by an edit).
    actions: dicts of id (None for a new action), text, owner_id, owner_name and remove;
    an id must be one of this meeting's actions, and an owner_id a member or the action's
    present owner. Ticking done is not changed here (see set_action_done), so an edit never
    undoes a tick made while the lead had the page open.
    """
    if meeting is None:
        meeting = Meeting(review=review, created_by=author)
        existing = {}
        present_attendees = set()
    else:
        meeting = Meeting.objects.select_for_update().filter(pk=meeting.pk, review=review).first()
        if meeting is None:
            raise MeetingError("This meeting has been deleted meanwhile, perhaps by someone else.")
        existing = {action.pk: action for action in meeting.actions.select_for_update()}
        present_attendees = set(meeting.attendees.values_list("id", flat=True))
    members = member_ids(review)

    attendee_ids = set(attendee_ids)
    if attendee_ids - members - present_attendees:
        raise MeetingError(
            "Someone ticked as attending is no longer a member of this review. "
            "Check who attended and save again."
        )
    present_owners = {action.owner_id for action in existing.values() if action.owner_id}
    for row in actions:
        if row["id"] is not None and row["id"] not in existing:
            raise MeetingError(
                "One of the actions on this page has been removed meanwhile, perhaps by "
                "someone else. Open the meeting again to see its actions as they are now."
            )
        if row["owner_id"] is not None and row["owner_id"] not in members | present_owners:
            raise MeetingError(
                "Someone chosen to do an action is no longer a member of this review. "
                "Choose someone else, or write their name instead."
            )

    for name in MEETING_FIELDS:
        value = fields[name]
        setattr(meeting, name, _plain(value) if isinstance(value, str) else value)
    meeting.save()
    meeting.attendees.set(attendee_ids)

    removed = [row["id"] for row in actions if row["id"] is not None and row["remove"]]
    MeetingAction.objects.filter(meeting=meeting, pk__in=removed).delete()
    new = []
    for row in actions:
        if row["remove"]:
            continue
        text, owner_id, owner_name = _plain(row["text"]), row["owner_id"], _plain(row["owner_name"])
        if row["id"] is None:
            new.append(
                MeetingAction(meeting=meeting, text=text, owner_id=owner_id, owner_name=owner_name)
            )
            continue
        action = existing[row["id"]]
        if (action.text, action.owner_id, action.owner_name) != (text, owner_id, owner_name):
            action.text, action.owner_id, action.owner_name = text, owner_id, owner_name
            action.save(update_fields=["text", "owner", "owner_name"])
    MeetingAction.objects.bulk_create(new)
    return meeting


def set_action_done(action, done):
    """Mark the action done (now) or not done. Returns False when it already was, so a
    double-click or a second person ticking the same action changes nothing."""
    changed = MeetingAction.objects.filter(pk=action.pk, done=not done).update(
        done=done, done_at=timezone.now() if done else None
    )
    return changed == 1


def delete_meeting(meeting):
    """Delete the meeting with its actions and its record of who attended."""
    meeting.delete()
