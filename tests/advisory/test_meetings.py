"""Advisory Group meetings: the list, a meeting's page, the lead's record/edit form with its
actions, ticking actions done, deleting, and that no page shows an email address."""

import datetime

import pytest
from django.urls import reverse

from advisory.meetings import MeetingError, save_meeting
from advisory.models import Meeting, MeetingAction
from reviewapp.models import Membership, Role
from tests.factories import MembershipFactory, ReviewFactory

pytestmark = pytest.mark.django_db

MARCH = datetime.date(2025, 3, 14)
APRIL = datetime.date(2025, 4, 11)


def url(name, review, *args):
    return reverse(name, args=[review.slug, *args])


@pytest.fixture
def meeting(review, lead, advisory):
    meeting = Meeting.objects.create(
        review=review, date=MARCH, title="March meeting", created_by=lead,
        other_attendees="Sam (guest speaker)", agenda="Welcome\nThemes", notes="We talked.",
    )  # fmt: skip
    meeting.attendees.set([lead, advisory])
    MeetingAction.objects.create(meeting=meeting, text="Send the summary", owner=lead)
    MeetingAction.objects.create(meeting=meeting, text="Read theme 2", owner=advisory)
    MeetingAction.objects.create(meeting=meeting, text="Book a room", owner_name="Sam")
    return meeting


def actions_of(meeting):
    return list(
        MeetingAction.objects.filter(meeting=meeting)
        .order_by("id")
        .values_list("text", "owner_id", "owner_name", "done")
    )


def form_data(rows=(), initial=0, blank_rows=3, **fields):
    """POST data for the record/edit form: the meeting's fields, then action rows (dicts of
    action_id, text, owner, owner_name, remove), then `blank_rows` untouched rows."""
    data = {
        "date": "2025-04-11",
        "title": "April meeting",
        "other_attendees": "",
        "agenda": "",
        "notes": "",
        **fields,
    }
    rows = [*rows, *({} for _ in range(blank_rows))]
    data["actions-TOTAL_FORMS"] = str(len(rows))
    data["actions-INITIAL_FORMS"] = str(initial)
    for index, row in enumerate(rows):
        for key in ("action_id", "text", "owner", "owner_name"):
            data[f"actions-{index}-{key}"] = str(row.get(key, ""))
        if row.get("remove"):
            data[f"actions-{index}-remove"] = "on"
    return data


def rows_for(meeting):
    """The existing actions as the edit form posts them back, unchanged."""
    return [
        {"action_id": a.pk, "text": a.text, "owner": a.owner_id or "", "owner_name": a.owner_name}
        for a in meeting.actions.order_by("id")
    ]


# --------------------------------------------------------------------------- who may


@pytest.mark.parametrize(
    ("persona", "status"),
    [("lead", 200), ("reviewer", 200), ("advisory", 200), ("outsider", 404)],
)
@pytest.mark.parametrize("page", ["meetings", "meeting_detail"])
def test_every_member_may_read_meetings(client_for, personas, meeting, page, persona, status):
    args = [meeting.pk] if page == "meeting_detail" else []
    assert client_for(personas[persona]).get(url(page, meeting.review, *args)).status_code == status


@pytest.mark.parametrize(
    ("persona", "status"),
    [("lead", 200), ("reviewer", 403), ("advisory", 403), ("outsider", 404)],
)
@pytest.mark.parametrize("page", ["meeting_create", "meeting_edit", "meeting_delete"])
def test_only_the_lead_may_open_the_lead_pages(
    client_for, personas, meeting, page, persona, status
):
    args = [] if page == "meeting_create" else [meeting.pk]
    assert client_for(personas[persona]).get(url(page, meeting.review, *args)).status_code == status


@pytest.mark.parametrize(
    "page", ["meetings", "meeting_create", "meeting_detail", "meeting_edit", "meeting_delete"]
)
def test_anonymous_is_sent_to_sign_in(client, meeting, page):
    args = [] if page in ("meetings", "meeting_create") else [meeting.pk]
    response = client.get(url(page, meeting.review, *args))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize(("persona", "status"), [("reviewer", 403), ("advisory", 403),
                                                 ("outsider", 404)])  # fmt: skip
def test_only_the_lead_may_record_edit_or_delete(client_for, personas, meeting, persona, status):
    review = meeting.review
    client = client_for(personas[persona])
    assert client.post(url("meeting_create", review), form_data()).status_code == status
    edit = form_data(rows_for(meeting), initial=3, title="Changed")
    assert client.post(url("meeting_edit", review, meeting.pk), edit).status_code == status
    assert client.post(url("meeting_delete", review, meeting.pk)).status_code == status
    assert list(Meeting.objects.values_list("title", flat=True)) == ["March meeting"]
    assert len(actions_of(meeting)) == 3


@pytest.mark.parametrize(
    ("name", "method"),
    [("meetings", "post"), ("meeting_detail", "post"), ("meeting_action_toggle", "get"),
     ("meeting_create", "put"), ("meeting_delete", "delete")],
)  # fmt: skip
def test_wrong_method_is_refused(client_for, lead, meeting, name, method):
    args = {
        "meetings": [],
        "meeting_create": [],
        "meeting_detail": [meeting.pk],
        "meeting_delete": [meeting.pk],
        "meeting_action_toggle": [meeting.pk, meeting.actions.first().pk],
    }[name]
    response = getattr(client_for(lead), method)(url(name, meeting.review, *args))
    assert response.status_code == 405


def test_another_reviews_meeting_is_not_found(client_for, lead, meeting):
    other = ReviewFactory()
    MembershipFactory(review=other, user=lead, role=Role.LEAD)
    client = client_for(lead)
    action = meeting.actions.first()
    assert client.get(url("meeting_detail", other, meeting.pk)).status_code == 404
    assert client.get(url("meeting_edit", other, meeting.pk)).status_code == 404
    assert client.post(url("meeting_delete", other, meeting.pk)).status_code == 404
    toggle = url("meeting_action_toggle", other, meeting.pk, action.pk)
    assert client.post(toggle, {"done": "yes"}).status_code == 404
    assert Meeting.objects.filter(pk=meeting.pk).exists()
    action.refresh_from_db()
    assert action.done is False


def test_an_action_of_another_meeting_is_not_found(client_for, lead, review, meeting):
    other = Meeting.objects.create(review=review, date=APRIL, title="April")
    action = meeting.actions.first()
    toggle = url("meeting_action_toggle", review, other.pk, action.pk)
    assert client_for(lead).post(toggle, {"done": "yes"}).status_code == 404
    action.refresh_from_db()
    assert action.done is False


# --------------------------------------------------------------------------- the list


def test_list_shows_meetings_newest_first_with_counts(client_for, advisory, review, meeting):
    april = Meeting.objects.create(review=review, date=APRIL, title="April meeting")
    Meeting.objects.create(review=ReviewFactory(), date=APRIL, title="Someone else's meeting")
    MeetingAction.objects.filter(meeting=meeting, text="Book a room").update(done=True)

    response = client_for(advisory).get(url("meetings", review))

    assert response.status_code == 200
    assert [(m.title, m.n_attendees, m.n_open) for m in response.context["meetings"]] == [
        ("April meeting", 0, 0),
        ("March meeting", 2, 2),
    ]
    html = response.content.decode()
    assert html.index("April meeting") < html.index("March meeting")
    assert "Someone else" not in html
    assert "<td>2, plus others</td>" in html
    assert '<time datetime="2025-03-14">14 March 2025</time>' in html
    assert url("meeting_detail", review, april.pk) in html
    assert url("meeting_detail", review, meeting.pk) in html


def test_only_the_lead_is_offered_record_a_meeting(client_for, lead, advisory, review):
    create = url("meeting_create", review)
    assert create in client_for(lead).get(url("meetings", review)).content.decode()
    assert create not in client_for(advisory).get(url("meetings", review)).content.decode()


def test_empty_list_says_so(client_for, advisory, review):
    response = client_for(advisory).get(url("meetings", review))
    assert "No meetings have been recorded yet." in response.content.decode()


def test_list_query_count_is_pinned(
    client_for, lead, advisory, reviewer, review, meeting, queries_of, django_assert_num_queries
):
    client = client_for(advisory)
    target = url("meetings", review)
    with_one = queries_of(client, target)
    for day in range(1, 6):
        more = Meeting.objects.create(review=review, date=datetime.date(2024, 1, day), title="M")
        more.attendees.set([lead, advisory, reviewer])
        MeetingAction.objects.create(meeting=more, text="Do it", owner=reviewer)
    with django_assert_num_queries(with_one):
        client.get(target)


# --------------------------------------------------------------------------- a meeting


def test_detail_shows_the_meeting(client_for, advisory, review, meeting):
    MeetingAction.objects.filter(meeting=meeting, text="Book a room").update(
        done=True, done_at=datetime.datetime(2025, 3, 20, 12, tzinfo=datetime.UTC)
    )
    html = client_for(advisory).get(url("meeting_detail", review, meeting.pk)).content.decode()

    assert "<h1>March meeting</h1>" in html
    assert '<time datetime="2025-03-14">Friday 14 March 2025</time>' in html
    assert "<li>Ada Advisor</li>" in html
    assert "<li>Lena Lead</li>" in html
    assert "Also attended: Sam (guest speaker)" in html
    assert "Welcome<br>Themes" in html
    assert "2 of 3 actions still to do." in html
    # Done and not done are said in words, not shown by colour alone.
    assert html.count("<strong>Not done yet</strong>") == 2
    assert html.count("<strong>Done</strong>") == 1
    assert "Ada Advisor (you)" in html
    # Ada may tick her own action, and only that one.
    own = meeting.actions.get(text="Read theme 2")
    assert html.count('name="done"') == 1
    assert url("meeting_action_toggle", review, meeting.pk, own.pk) in html
    assert url("meeting_edit", review, meeting.pk) not in html


def test_lead_sees_edit_delete_and_every_tick_button(client_for, lead, review, meeting):
    html = client_for(lead).get(url("meeting_detail", review, meeting.pk)).content.decode()
    assert url("meeting_edit", review, meeting.pk) in html
    assert url("meeting_delete", review, meeting.pk) in html
    assert html.count('name="done" value="yes"') == 3


def test_notes_are_plain_text_with_safe_links(client_for, advisory, review, meeting):
    meeting.notes = (
        "<script>alert(1)</script> <b>bold</b>\n"
        "See https://example.org/plan?a=1&b=2 for the plan.\n"
        'javascript:alert(2) and <a href="https://evil.example">click</a>'
    )
    meeting.save(update_fields=["notes"])
    html = client_for(advisory).get(url("meeting_detail", review, meeting.pk)).content.decode()

    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &lt;b&gt;bold&lt;/b&gt;<br>" in html
    assert (
        '<a href="https://example.org/plan?a=1&amp;b=2" rel="nofollow">'
        "https://example.org/plan?a=1&amp;b=2</a>"
    ) in html
    assert 'href="javascript' not in html
    assert '<a href="https://evil.example">' not in html


def test_detail_query_count_is_pinned(
    client_for, lead, advisory, reviewer, review, meeting, queries_of, django_assert_num_queries
):
    client = client_for(advisory)
    target = url("meeting_detail", review, meeting.pk)
    with_few = queries_of(client, target)
    meeting.attendees.add(reviewer, *(MembershipFactory(review=review).user for _ in range(4)))
    for n in range(6):
        MeetingAction.objects.create(meeting=meeting, text=f"Task {n}", owner=reviewer)
    with django_assert_num_queries(with_few):
        client.get(target)


# --------------------------------------------------------------------------- no emails


@pytest.fixture
def nameless(review):
    """Two members with no name: public_names gives their role, never their address."""
    return [
        MembershipFactory(
            review=review, role=Role.ADVISORY, user__name="", user__email=f"hidden.{n}@secret.org"
        ).user
        for n in (1, 2)
    ]


def test_no_page_shows_an_attendees_email_address(client_for, lead, review, meeting, nameless):
    meeting.attendees.add(*nameless)
    MeetingAction.objects.create(meeting=meeting, text="Call back", owner=nameless[0])
    client = client_for(lead)
    pages = [
        url("meetings", review),
        url("meeting_detail", review, meeting.pk),
        url("meeting_create", review),
        url("meeting_edit", review, meeting.pk),
        url("meeting_delete", review, meeting.pk),
    ]
    for page in pages:
        html = client.get(page).content.decode()
        assert "hidden." not in html, page
        assert "secret.org" not in html, page

    detail = client.get(url("meeting_detail", review, meeting.pk)).content.decode()
    assert detail.count("<li>Advisory Group member</li>") == 2
    assert "<dd>Advisory Group member</dd>" in detail
    form = client.get(url("meeting_create", review)).content.decode()
    # Two unnamed members are told apart, so the lead can tick the right box.
    assert "Advisory Group member (1)" in form
    assert "Advisory Group member (2)" in form


def test_a_former_member_is_named_as_such(client_for, advisory, review, meeting, reviewer):
    meeting.attendees.add(reviewer)
    Membership.objects.filter(review=review, user=reviewer).delete()
    html = client_for(advisory).get(url("meeting_detail", review, meeting.pk)).content.decode()
    assert "<li>A former member</li>" in html
    assert "Rita" not in html


# --------------------------------------------------------------------------- record


def test_form_offers_members_by_public_name(client_for, lead, advisory, reviewer, review):
    response = client_for(lead).get(url("meeting_create", review))
    form = response.context["form"]
    assert form.fields["attendees"].choices == [
        (advisory.pk, "Ada Advisor"),
        (lead.pk, "Lena Lead"),
        (reviewer.pk, "Rita Reviewer"),
    ]
    html = response.content.decode()
    assert 'type="date"' in html
    assert "<legend>Members who attended:</legend>" in html
    assert "<legend>New action 1</legend>" in html


def test_lead_records_a_meeting_with_actions(client_for, lead, advisory, reviewer, review):
    data = form_data(
        [{"text": "Write to the ethics board", "owner": advisory.pk},
         {"text": "Find a room", "owner_name": "Sam Guest"}],
        title="  April meeting ", other_attendees="Sam Guest", agenda="One\r\nTwo",
        notes="Went well.", attendees=[lead.pk, advisory.pk],
    )  # fmt: skip

    response = client_for(lead).post(url("meeting_create", review), data)

    meeting = Meeting.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("meeting_detail", review, meeting.pk)
    assert (meeting.review_id, meeting.date, meeting.title, meeting.created_by_id) == (
        review.pk, APRIL, "April meeting", lead.pk,
    )  # fmt: skip
    assert (meeting.other_attendees, meeting.agenda, meeting.notes) == (
        "Sam Guest", "One\nTwo", "Went well.",
    )  # fmt: skip
    assert set(meeting.attendees.values_list("id", flat=True)) == {lead.pk, advisory.pk}
    assert actions_of(meeting) == [
        ("Write to the ethics board", advisory.pk, "", False),
        ("Find a room", None, "Sam Guest", False),
    ]


def test_problems_are_said_in_plain_words(client_for, lead, advisory, review):
    data = form_data(
        [{"owner": advisory.pk},
         {"text": "Both", "owner": advisory.pk, "owner_name": "Sam"}],
        date="", title="",
    )  # fmt: skip

    response = client_for(lead).post(url("meeting_create", review), data)

    assert response.status_code == 400
    assert Meeting.objects.count() == 0
    assert MeetingAction.objects.count() == 0
    assert [problem for problem, _ in response.context["problems"]] == [
        "Date of the meeting: Enter the date of the meeting.",
        "Title: Give the meeting a title.",
        "New action 1, what needs doing: Write what needs doing, or clear who will do it.",
        "New action 2, or write the name of someone without an account: "
        "Choose a member or write a name, not both.",
    ]
    html = response.content.decode()
    assert 'class="error-summary" role="alert"' in html
    assert 'href="#id_date"' in html
    assert 'href="#id_actions-0-text"' in html


def test_a_non_member_cannot_be_ticked_as_attending(client_for, lead, review, outsider):
    data = form_data(attendees=[lead.pk, outsider.pk])
    response = client_for(lead).post(url("meeting_create", review), data)
    assert response.status_code == 400
    assert Meeting.objects.count() == 0
    [(problem, anchor)] = response.context["problems"]
    assert problem.startswith("Members who attended: Someone ticked is not a member")
    assert anchor == "id_attendees_0"


def test_a_non_member_cannot_own_an_action(client_for, lead, review, outsider):
    data = form_data([{"text": "Sneak in", "owner": outsider.pk}])
    response = client_for(lead).post(url("meeting_create", review), data)
    assert response.status_code == 400
    assert MeetingAction.objects.count() == 0


# --------------------------------------------------------------------------- edit


def test_lead_edits_meeting_and_actions_in_one_go(client_for, lead, advisory, reviewer, review,
                                                  meeting):  # fmt: skip
    send, read, book = meeting.actions.order_by("id")
    MeetingAction.objects.filter(pk=read.pk).update(done=True)
    rows = rows_for(meeting)
    rows[0]["remove"] = True
    rows[1].update(text="Read theme 2 and 3", owner=reviewer.pk)
    data = form_data(
        [*rows, {"text": "Plan May", "owner": lead.pk}], initial=3,
        title="March meeting (moved)", attendees=[advisory.pk, reviewer.pk], notes="More.",
    )  # fmt: skip

    response = client_for(lead).post(url("meeting_edit", review, meeting.pk), data)

    assert response.status_code == 302
    meeting.refresh_from_db()
    assert (meeting.title, meeting.date, meeting.notes) == ("March meeting (moved)", APRIL, "More.")
    assert set(meeting.attendees.values_list("id", flat=True)) == {advisory.pk, reviewer.pk}
    # The edit leaves the tick alone: it is changed only on the meeting's page.
    assert actions_of(meeting) == [
        ("Read theme 2 and 3", reviewer.pk, "", True),
        ("Book a room", None, "Sam", False),
        ("Plan May", lead.pk, "", False),
    ]
    assert not MeetingAction.objects.filter(pk=send.pk).exists()


def test_edit_form_starts_from_the_meeting(client_for, lead, advisory, review, meeting):
    response = client_for(lead).get(url("meeting_edit", review, meeting.pk))
    assert response.context["form"]["attendees"].value() == sorted([lead.pk, advisory.pk])
    assert [form["text"].value() for form in response.context["formset"]] == [
        "Send the summary", "Read theme 2", "Book a room", None, None, None,
    ]  # fmt: skip
    html = response.content.decode()
    assert "<legend>Action 3</legend>" in html
    assert "<legend>New action 3</legend>" in html
    assert html.count(">Remove this action</label>") == 3


def test_editing_keeps_a_former_member_who_attended(client_for, lead, review, meeting, reviewer):
    meeting.attendees.add(reviewer)
    MeetingAction.objects.filter(meeting=meeting, text="Book a room").update(
        owner=reviewer, owner_name=""
    )
    Membership.objects.filter(review=review, user=reviewer).delete()
    client = client_for(lead)
    form = client.get(url("meeting_edit", review, meeting.pk)).context["form"]
    assert (reviewer.pk, "A former member") in form.fields["attendees"].choices

    data = form_data(rows_for(meeting), initial=3, title="March meeting",
                     attendees=form["attendees"].value())  # fmt: skip
    response = client.post(url("meeting_edit", review, meeting.pk), data)

    assert response.status_code == 302
    assert reviewer.pk in set(meeting.attendees.values_list("id", flat=True))
    assert meeting.actions.get(text="Book a room").owner_id == reviewer.pk


def test_an_existing_action_needs_text_or_remove(client_for, lead, review, meeting):
    rows = rows_for(meeting)
    rows[0]["text"] = ""
    data = form_data(rows, initial=3, title="March meeting")
    response = client_for(lead).post(url("meeting_edit", review, meeting.pk), data)
    assert response.status_code == 400
    assert [p for p, _ in response.context["problems"]] == [
        "Action 1, what needs doing: Write what needs doing, or tick “Remove this action”."
    ]
    assert meeting.actions.order_by("id").first().text == "Send the summary"


def test_an_action_id_from_another_meeting_changes_nothing(client_for, lead, review, meeting):
    other = Meeting.objects.create(review=review, date=APRIL, title="April")
    stranger = MeetingAction.objects.create(meeting=other, text="Not yours")
    rows = [*rows_for(meeting), {"action_id": stranger.pk, "text": "Stolen"}]
    data = form_data(rows, initial=4, title="Renamed")

    response = client_for(lead).post(url("meeting_edit", review, meeting.pk), data)

    assert response.status_code == 400
    assert "removed meanwhile" in response.context["problems"][0][0]
    meeting.refresh_from_db()
    stranger.refresh_from_db()
    assert (meeting.title, stranger.text, stranger.meeting_id) == (
        "March meeting", "Not yours", other.pk,
    )  # fmt: skip


def test_save_meeting_is_all_or_nothing(review, lead, meeting, outsider):
    with pytest.raises(MeetingError):
        save_meeting(
            review=review, author=lead, meeting=meeting,
            fields={"date": APRIL, "title": "Changed", "other_attendees": "", "agenda": "",
                    "notes": ""},
            attendee_ids=[lead.pk],
            actions=[{"id": None, "text": "New", "owner_id": outsider.pk, "owner_name": "",
                      "remove": False}],
        )  # fmt: skip
    meeting.refresh_from_db()
    assert meeting.title == "March meeting"
    assert meeting.attendees.count() == 2
    assert len(actions_of(meeting)) == 3


# --------------------------------------------------------------------------- ticking


def toggle(client, meeting, action, done):
    return client.post(
        url("meeting_action_toggle", meeting.review, meeting.pk, action.pk), {"done": done}
    )


def test_lead_ticks_any_action_done_and_undone(client_for, lead, meeting):
    action = meeting.actions.get(text="Book a room")
    client = client_for(lead)

    response = toggle(client, meeting, action, "yes")

    assert response.status_code == 302
    assert response["Location"].endswith(f"/meetings/{meeting.pk}/#action-{action.pk}")
    action.refresh_from_db()
    assert action.done is True
    assert action.done_at is not None

    toggle(client, meeting, action, "no")
    action.refresh_from_db()
    assert (action.done, action.done_at) == (False, None)


def test_owner_ticks_their_own_action(client_for, advisory, meeting):
    action = meeting.actions.get(owner=advisory)
    response = toggle(client_for(advisory), meeting, action, "yes")
    assert response.status_code == 302
    action.refresh_from_db()
    assert action.done is True


@pytest.mark.parametrize("persona", ["advisory", "reviewer"])
def test_others_may_not_tick_an_action(client_for, personas, meeting, persona):
    action = meeting.actions.get(text="Send the summary")
    assert toggle(client_for(personas[persona]), meeting, action, "yes").status_code == 403
    action.refresh_from_db()
    assert action.done is False


def test_outsider_ticking_gets_404(client_for, outsider, meeting):
    action = meeting.actions.first()
    assert toggle(client_for(outsider), meeting, action, "yes").status_code == 404
    action.refresh_from_db()
    assert action.done is False


def test_ticking_twice_is_harmless(client_for, lead, meeting):
    action = meeting.actions.first()
    client = client_for(lead)
    toggle(client, meeting, action, "yes")
    action.refresh_from_db()
    first = action.done_at

    toggle(client, meeting, action, "yes")

    action.refresh_from_db()
    assert (action.done, action.done_at) == (True, first)


def test_ticking_needs_a_state(client_for, lead, meeting):
    action = meeting.actions.first()
    assert toggle(client_for(lead), meeting, action, "maybe").status_code == 400
    action.refresh_from_db()
    assert action.done is False


# --------------------------------------------------------------------------- delete


def test_lead_deletes_a_meeting_after_confirming(client_for, lead, review, meeting):
    client = client_for(lead)
    confirm = client.get(url("meeting_delete", review, meeting.pk))
    assert "This cannot be undone." in confirm.content.decode()
    assert Meeting.objects.filter(pk=meeting.pk).exists()

    response = client.post(url("meeting_delete", review, meeting.pk))

    assert response.status_code == 302
    assert response["Location"] == url("meetings", review)
    assert Meeting.objects.filter(pk=meeting.pk).exists() is False
    assert MeetingAction.objects.filter(meeting_id=meeting.pk).count() == 0
