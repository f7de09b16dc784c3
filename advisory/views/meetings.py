"""Advisory Group meetings: the list and each meeting's page (every member), the lead's
record and edit form (the meeting, who attended and its actions on one page), ticking an
action done (the lead, or the person doing it) and deleting a meeting (the lead).

Every person is shown by advisory.access.public_names, never by anything from an email
address. Writes go through advisory.meetings.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from reviewapp.access import is_lead, posted

from .. import meetings as services
from ..access import get_advisory_review, public_names

# Blank action rows under the meeting; saving and editing again gives three more.
EXTRA_ACTION_ROWS = 3


class MeetingForm(forms.Form):
    date = forms.DateField(
        label="Date of the meeting",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": "Enter the date of the meeting.",
            "invalid": "Enter a real date, as day/month/year, for example 14/03/2025.",
        },
    )
    title = forms.CharField(
        label="Title",
        max_length=200,
        help_text="For example “Advisory Group meeting, March”.",
        error_messages={
            "required": "Give the meeting a title.",
            "max_length": "Keep the title to %(limit_value)d characters or fewer "
            "(it has %(show_value)d).",
        },
    )
    attendees = forms.TypedMultipleChoiceField(
        label="Members who attended",
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "invalid_choice": "Someone ticked is not a member of this review. Check the list "
            "and save again."
        },
    )
    other_attendees = forms.CharField(
        label="Others who attended",
        max_length=500,
        required=False,
        help_text="People without an account here, such as a guest. Separate names with commas.",
        error_messages={
            "max_length": "Keep this to %(limit_value)d characters or fewer "
            "(it has %(show_value)d)."
        },
    )
    agenda = forms.CharField(
        label="Agenda",
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="What the meeting planned to cover. Web links become clickable.",
    )
    notes = forms.CharField(
        label="Notes",
        required=False,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text="What was said and decided. Web links become clickable.",
    )

    def __init__(self, *args, attendee_choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attendees"].choices = attendee_choices


class ActionForm(forms.Form):
    """One action under a meeting: an existing one (action_id set) or a new row."""

    action_id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    text = forms.CharField(
        label="What needs doing",
        max_length=500,
        required=False,
        error_messages={
            "max_length": "Keep each action to %(limit_value)d characters or fewer "
            "(it has %(show_value)d)."
        },
    )
    owner = forms.TypedChoiceField(
        label="Who will do it",
        coerce=int,
        empty_value=None,
        required=False,
        error_messages={"invalid_choice": "Choose someone who is a member of this review."},
    )
    owner_name = forms.CharField(
        label="Or write the name of someone without an account",
        max_length=200,
        required=False,
        error_messages={
            "max_length": "Keep the name to %(limit_value)d characters or fewer "
            "(it has %(show_value)d)."
        },
    )
    remove = forms.BooleanField(label="Remove this action", required=False)

    def __init__(self, *args, owner_choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [("", "No member chosen"), *owner_choices]

    def clean(self):
        data = super().clean()
        if data.get("remove"):
            return data
        if not data.get("text"):
            if data.get("action_id") is not None:
                self.add_error("text", "Write what needs doing, or tick “Remove this action”.")
            elif data.get("owner") is not None or data.get("owner_name"):
                self.add_error("text", "Write what needs doing, or clear who will do it.")
        if data.get("owner") is not None and data.get("owner_name"):
            self.add_error("owner_name", "Choose a member or write a name, not both.")
        return data


# A hard cap on rows posted back, so a forged TOTAL_FORMS cannot build forms without end.
ActionFormSet = forms.formset_factory(
    ActionForm, extra=EXTRA_ACTION_ROWS, max_num=200, absolute_max=200
)


def _distinct(names):
    """{user id: label} where members who share a public name (say two unnamed Advisory
    Group members) are told apart by a number, so the lead can tick the right box."""
    by_name = {}
    for uid in sorted(names):
        by_name.setdefault(names[uid], []).append(uid)
    labels = {}
    for name, uids in by_name.items():
        for n, uid in enumerate(uids, start=1):
            labels[uid] = name if len(uids) == 1 else f"{name} ({n})"
    return labels


def _choices(labels, ids):
    return sorted(((uid, labels[uid]) for uid in ids), key=lambda c: (c[1].casefold(), c[0]))


def _people(review, meeting, actions):
    """(attendee choices, owner choices, present attendee ids). The choices are the review's
    members plus whoever already attends or owns an action here, so that editing never
    silently drops a former member."""
    members = services.member_ids(review)
    attendees = set(meeting.attendees.values_list("id", flat=True)) if meeting else set()
    owners = {action.owner_id for action in actions if action.owner_id}
    labels = _distinct(public_names(review, members | attendees | owners))
    return _choices(labels, members | attendees), _choices(labels, members | owners), attendees


def _action_rows(formset):
    """Each action form with its legend: existing actions first, then the blank rows."""
    existing = formset.initial_form_count()
    return [
        {
            "form": form,
            "legend": (
                f"Action {index + 1}" if index < existing else f"New action {index + 1 - existing}"
            ),
            "existing": index < existing,
            "anchor": f"action-row-{index}",
        }
        for index, form in enumerate(formset.forms)
    ]


def _problems(form, rows):
    """(message, id of the element it is about) for the error summary, in page order."""
    problems = []
    for field in form:
        anchor = field.id_for_label or f"{field.auto_id}_0"
        problems += [(f"{field.label}: {error}", anchor) for error in field.errors]
    problems += [(error, "meeting-heading") for error in form.non_field_errors()]
    for row in rows:
        for field in row["form"]:
            problems += [
                (f"{row['legend']}, {field.label.lower()}: {error}", field.id_for_label)
                for error in field.errors
            ]
        errors = row["form"].non_field_errors()
        problems += [(f"{row['legend']}: {error}", row["anchor"]) for error in errors]
    return problems


def _posted_actions(formset):
    """The formset's rows as save_meeting wants them; untouched blank rows are left out."""
    actions = []
    for form in formset.forms:
        data = form.cleaned_data
        if not data or (data.get("action_id") is None and not data.get("text")):
            continue
        actions.append(
            {
                "id": data.get("action_id"),
                "text": data.get("text", ""),
                "owner_id": data.get("owner"),
                "owner_name": data.get("owner_name", ""),
                "remove": bool(data.get("remove")),
            }
        )
    return actions


def _meeting_form_page(request, review, membership, meeting):
    actions = list(meeting.actions.all()) if meeting else []
    attendee_choices, owner_choices, attendees = _people(review, meeting, actions)
    if meeting:
        initial = {name: getattr(meeting, name) for name in services.MEETING_FIELDS}
        initial["attendees"] = sorted(attendees)
    else:
        initial = {"date": timezone.localdate()}
    form = MeetingForm(posted(request), initial=initial, attendee_choices=attendee_choices)
    formset = ActionFormSet(
        posted(request),
        prefix="actions",
        initial=[
            {"action_id": a.pk, "text": a.text, "owner": a.owner_id, "owner_name": a.owner_name}
            for a in actions
        ],
        form_kwargs={"owner_choices": owner_choices},
    )
    if request.method == "POST" and all([form.is_valid(), formset.is_valid()]):
        fields = {name: form.cleaned_data[name] for name in services.MEETING_FIELDS}
        try:
            saved = services.save_meeting(
                review=review,
                author=request.user,
                meeting=meeting,
                fields=fields,
                attendee_ids=form.cleaned_data["attendees"],
                actions=_posted_actions(formset),
            )
        except services.MeetingError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Meeting saved." if meeting else "Meeting recorded.")
            return redirect("meeting_detail", slug=review.slug, meeting_id=saved.pk)
    rows = _action_rows(formset)
    problems = _problems(form, rows)
    if formset.is_bound:
        problems += [(error, "actions-heading") for error in formset.non_form_errors()]
    context = {
        "review": review,
        "membership": membership,
        "meeting": meeting,
        "form": form,
        "formset": formset,
        "rows": rows,
        "problems": problems,
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "advisory/meetings/form.html", context, status=status)


@require_safe
def meetings(request, slug):
    review, membership, _ = get_advisory_review(request, slug)
    context = {
        "review": review,
        "membership": membership,
        "meetings": services.meetings_with_counts(review),
        "can_record": is_lead(membership),
    }
    return render(request, "advisory/meetings/list.html", context)


@require_safe
def meeting_detail(request, slug, meeting_id):
    review, membership, _ = get_advisory_review(request, slug)
    meeting = services.get_meeting_for(review, meeting_id)
    attendee_ids = list(meeting.attendees.values_list("id", flat=True))
    actions = list(meeting.actions.all())
    names = public_names(review, attendee_ids + [a.owner_id for a in actions if a.owner_id])
    rows = [
        {
            "action": action,
            "owner": names[action.owner_id] if action.owner_id else action.owner_name,
            "mine": action.owner_id is not None and action.owner_id == request.user.pk,
            "can_tick": services.can_tick(membership, action),
        }
        for action in actions
    ]
    context = {
        "review": review,
        "membership": membership,
        "meeting": meeting,
        "attendees": sorted((names[uid] for uid in attendee_ids), key=str.casefold),
        "rows": rows,
        "n_open": sum(1 for action in actions if not action.done),
        "is_lead": is_lead(membership),
    }
    return render(request, "advisory/meetings/detail.html", context)


@require_http_methods(["GET", "POST"])
def meeting_create(request, slug):
    review, membership, _ = get_advisory_review(request, slug, need=is_lead)
    return _meeting_form_page(request, review, membership, meeting=None)


@require_http_methods(["GET", "POST"])
def meeting_edit(request, slug, meeting_id):
    review, membership, _ = get_advisory_review(request, slug, need=is_lead)
    meeting = services.get_meeting_for(review, meeting_id)
    return _meeting_form_page(request, review, membership, meeting=meeting)


@require_POST
def meeting_action_toggle(request, slug, meeting_id, action_id):
    review, membership, _ = get_advisory_review(request, slug)
    meeting = services.get_meeting_for(review, meeting_id)
    action = services.get_action_for(meeting, action_id)
    if not services.can_tick(membership, action):
        raise PermissionDenied("Only the lead or the person doing this action can tick it.")
    # The button says which state it sets, rather than flipping whatever is stored, so a
    # double-click or a page open in two tabs cannot undo what the person meant.
    done = {"yes": True, "no": False}.get(request.POST.get("done"))
    if done is None:
        return HttpResponseBadRequest("Use the button on the meeting's page.")
    changed = services.set_action_done(action, done)
    state = "done" if done else "not done"
    if changed:
        messages.success(request, f"Marked as {state}: “{action.text}”.")
    else:
        messages.info(request, f"This was already marked as {state}: “{action.text}”.")
    url = reverse("meeting_detail", args=[review.slug, meeting.pk])
    return redirect(f"{url}#action-{action.pk}")


@require_http_methods(["GET", "POST"])
def meeting_delete(request, slug, meeting_id):
    review, membership, _ = get_advisory_review(request, slug, need=is_lead)
    meeting = services.get_meeting_for(review, meeting_id)
    if request.method == "POST":
        services.delete_meeting(meeting)
        messages.success(request, f"Deleted the meeting “{meeting.title}”.")
        return redirect("meetings", slug=review.slug)
    context = {
        "review": review,
        "membership": membership,
        "meeting": meeting,
        "n_actions": meeting.actions.count(),
    }
    return render(request, "advisory/meetings/delete.html", context)


urlpatterns = [
    path("meetings/", meetings, name="meetings"),
    path("meetings/new/", meeting_create, name="meeting_create"),
    path("meetings/<int:meeting_id>/", meeting_detail, name="meeting_detail"),
    path("meetings/<int:meeting_id>/edit/", meeting_edit, name="meeting_edit"),
    path("meetings/<int:meeting_id>/delete/", meeting_delete, name="meeting_delete"),
    path(
        "meetings/<int:meeting_id>/actions/<int:action_id>/toggle/",
        meeting_action_toggle,
        name="meeting_action_toggle",
    ),
]
