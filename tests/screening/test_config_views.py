"""The lead's screening settings page: settings, exclusion reasons, highlight terms."""

import pytest
from django.urls import reverse

from reviewapp.models import Role
from screening import settings_services
from screening.decisions import config_for, record_decision, resolve_conflict
from screening.models import ExclusionReason, HighlightTerm, Record, RecordStage
from screening.models.decisions import StageStatus
from screening.settings_services import ReasonInUse, SettingsError, set_exclusion_reasons
from tests.factories import MembershipFactory

from .factories import import_file, ris_bytes, work

pytestmark = pytest.mark.django_db

SEVEN = [
    "Published in or before 2007",
    "Not in English",
    "Participants under 15",
    "Not a community setting",
    "Participants not service users",
    "Not accessing support for mental health",
    "Not peer reviewed",
]


@pytest.fixture
def url(review):
    return reverse("screening_settings", args=[review.slug])


@pytest.fixture
def reasons(review):
    return set_exclusion_reasons(review, SEVEN).reasons


@pytest.fixture
def records(review, lead):
    import_file(review, ris_bytes([work(n) for n in range(1, 4)]), user=lead)
    return list(Record.objects.order_by("id"))


def texts(review):
    return list(ExclusionReason.objects.filter(review=review).values_list("text", flat=True))


def rows(review):
    return list(ExclusionReason.objects.filter(review=review).values_list("pk", "text", "position"))


def exclude_at_full_text(record, reviewers, reasons_):
    """Both reviewers include at title/abstract, then exclude at full text with these reasons."""
    for person in reviewers:
        record_decision(record=record, stage="ta", reviewer=person, value="include")
    for person, reason in zip(reviewers, reasons_, strict=True):
        record_decision(record=record, stage="ft", reviewer=person, value="exclude", reason=reason)


# --------------------------------------------------------------------------- who may


@pytest.mark.parametrize(
    ("persona", "status"),
    [("lead", 200), ("reviewer", 403), ("advisory", 403), ("outsider", 404)],
)
def test_who_may_open_the_page(client_for, personas, url, persona, status):
    assert client_for(personas[persona]).get(url).status_code == status


@pytest.mark.parametrize(
    ("persona", "status"),
    [("lead", 302), ("reviewer", 403), ("advisory", 403), ("outsider", 404)],
)
def test_who_may_change_the_settings(client_for, review, personas, url, persona, status):
    response = client_for(personas[persona]).post(
        url, {"action": "add_reason", "add-text": "Not in English"}
    )
    assert response.status_code == status
    assert texts(review) == (["Not in English"] if persona == "lead" else [])


@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_visitors_are_sent_to_sign_in(client_for, review, url, method):
    response = getattr(client_for(None), method)(
        url, {"action": "add_reason", "add-text": "Not in English"}
    )
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert texts(review) == []


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_wrong_method(client_for, lead, url, method):
    assert getattr(client_for(lead), method)(url).status_code == 405


def test_an_unknown_action_is_refused(client_for, lead, url):
    response = client_for(lead).post(url, {"action": "drop_tables"})
    assert response.status_code == 400
    assert "Use one of the buttons on this page." in response.content.decode()


def test_a_reason_of_another_review_is_not_found(client_for, lead, url):
    other = MembershipFactory(role=Role.LEAD).review
    foreign = set_exclusion_reasons(other, ["Not in English"]).reasons[0]
    response = client_for(lead).post(url, {"action": "remove_reason", "reason": foreign.pk})
    assert response.status_code == 404
    assert texts(other) == ["Not in English"]


# --------------------------------------------------------------------------- settings


def settings_data(**changes):
    data = {
        "action": "settings",
        "reviewers_per_record": "2",
        "blind": "on",
        "eligibility_criteria": "",
    }
    data.update(changes)
    return data


def test_page_shows_the_defaults_and_names_not_emails(client_for, review, lead, reviewer, url):
    page = client_for(lead).get(url).content.decode()
    config = config_for(review)
    assert (config.reviewers_per_record, config.blind, config.eligibility_criteria) == (2, True, "")
    assert (
        'name="reviewers_per_record" value="2" required id="id_reviewers_per_record_1" checked'
        in page
    )
    assert reviewer.display_name in page
    assert reviewer.email not in page


def test_lead_saves_the_settings(client_for, review, lead, reviewer, reviewer2, url):
    response = client_for(lead).post(
        url,
        settings_data(
            reviewers_per_record="3",
            blind="",
            eligibility_criteria="  Adults (15+) using community mental health services.  ",
            adjudicators=[reviewer2.pk],
        ),
    )
    assert response.status_code == 302
    assert response["Location"] == url
    config = config_for(review)
    config.refresh_from_db()
    assert (config.reviewers_per_record, config.blind, config.eligibility_criteria) == (
        3,
        False,
        "Adults (15+) using community mental health services.",
    )
    assert list(config.adjudicators.all()) == [reviewer2]


@pytest.mark.parametrize("who", ["outsider", "advisory", "lead"])
def test_only_the_reviews_reviewers_can_be_chosen_as_adjudicators(
    client_for, review, personas, reviewer, url, who
):
    lead = personas["lead"]
    config = config_for(review)
    config.adjudicators.set([reviewer])
    response = client_for(lead).post(
        url, settings_data(reviewers_per_record="3", adjudicators=[personas[who].pk])
    )
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    config.refresh_from_db()
    assert config.reviewers_per_record == 2
    assert list(config.adjudicators.all()) == [reviewer]


def test_the_service_also_refuses_an_adjudicator_who_is_not_a_researcher(
    review, lead, reviewer, advisory, outsider
):
    for person in (advisory, outsider):
        with pytest.raises(SettingsError, match="leads or reviewers of this review"):
            settings_services.update_screening_config(
                review=review, reviewers_per_record=2, blind=True, eligibility_criteria="",
                adjudicators=[reviewer, person],
            )  # fmt: skip
    assert list(config_for(review).adjudicators.all()) == []
    settings_services.update_screening_config(
        review=review, reviewers_per_record=2, blind=True, eligibility_criteria="",
        adjudicators=[reviewer, lead],
    )  # fmt: skip
    assert set(config_for(review).adjudicators.all()) == {reviewer, lead}


@pytest.mark.parametrize("value", ["0", "4", "two", ""])
def test_reviewers_per_record_is_one_to_three(client_for, review, lead, url, value):
    response = client_for(lead).post(url, settings_data(reviewers_per_record=value))
    assert response.status_code == 400
    assert config_for(review).reviewers_per_record == 2


def test_fewer_reviewers_per_record_settles_records_that_have_enough(
    client_for, review, lead, reviewer, reviewer2, records, url
):
    config = config_for(review)
    config.reviewers_per_record = 3
    config.save(update_fields=["reviewers_per_record"])
    for person in (reviewer, reviewer2):
        record_decision(record=records[0], stage="ta", reviewer=person, value="include")
    record_decision(record=records[1], stage="ta", reviewer=reviewer, value="exclude")
    client = client_for(lead)
    response = client.post(url, settings_data(reviewers_per_record="2"), follow=True)
    assert "1 record already had enough decisions and was settled." in response.content.decode()
    statuses = dict(RecordStage.objects.filter(stage="ta").values_list("record_id", "status"))
    assert statuses == {
        records[0].pk: StageStatus.INCLUDED,
        records[1].pk: StageStatus.AWAITING_MORE,
        records[2].pk: StageStatus.AWAITING,
    }
    assert RecordStage.objects.get(record=records[0], stage="ft").status == StageStatus.AWAITING


# --------------------------------------------------------------------------- reasons


def test_set_exclusion_reasons_makes_the_list_and_is_repeatable(review):
    first = set_exclusion_reasons(review, SEVEN)
    assert (first.added, first.renamed, first.removed) == (7, 0, 0)
    again = set_exclusion_reasons(review, ["", *SEVEN, "  not in ENGLISH "])
    assert [r.pk for r in again.reasons] == [r.pk for r in first.reasons]
    assert (again.added, again.renamed, again.removed) == (0, 0, 0)
    assert rows(review) == [(r.pk, text, i) for i, (r, text) in enumerate(
        zip(first.reasons, SEVEN, strict=True))]  # fmt: skip


def test_lead_adds_a_reason_at_the_end(client_for, review, lead, reasons, url):
    response = client_for(lead).post(url, {"action": "add_reason", "add-text": "  Not a  review "})
    added = ExclusionReason.objects.get(text="Not a review")
    assert response["Location"] == f"{url}#reason-{added.pk}"
    assert rows(review)[-1] == (added.pk, "Not a review", 7)


def test_adding_a_reason_twice_is_refused(client_for, review, lead, reasons, url):
    response = client_for(lead).post(url, {"action": "add_reason", "add-text": "NOT IN ENGLISH"})
    assert response.status_code == 400
    assert "The list already has “Not in English”." in response.content.decode()
    assert texts(review) == SEVEN


@pytest.mark.parametrize(
    ("index", "direction", "expected"),
    [
        (1, "up", [1, 0, 2, 3, 4, 5, 6]),
        (1, "down", [0, 2, 1, 3, 4, 5, 6]),
        (6, "up", [0, 1, 2, 3, 4, 6, 5]),
        (0, "down", [1, 0, 2, 3, 4, 5, 6]),
    ],
)
def test_move_up_and_down(client_for, review, lead, reasons, url, index, direction, expected):
    reason = reasons[index]
    response = client_for(lead).post(
        url, {"action": "move_reason", "reason": reason.pk, "direction": direction}
    )
    assert response.status_code == 302
    assert response["Location"] == f"{url}#reason-{reason.pk}-{direction}"
    assert rows(review) == [(reasons[i].pk, SEVEN[i], pos) for pos, i in enumerate(expected)]


@pytest.mark.parametrize(("index", "direction", "where"), [(0, "up", "first"), (6, "down", "last")])
def test_moving_past_the_end_changes_nothing(
    client_for, review, lead, reasons, url, index, direction, where
):
    before = rows(review)
    response = client_for(lead).post(
        url, {"action": "move_reason", "reason": reasons[index].pk, "direction": direction}
    )
    assert response.status_code == 400
    assert f"“{SEVEN[index]}” is already {where} in the list." in response.content.decode()
    assert rows(review) == before


def test_move_twice_then_back(client_for, review, lead, reasons, url):
    client = client_for(lead)
    last = reasons[6]
    for _ in range(2):
        client.post(url, {"action": "move_reason", "reason": last.pk, "direction": "up"})
    assert texts(review) == SEVEN[:4] + [SEVEN[6], SEVEN[4], SEVEN[5]]
    client.post(url, {"action": "move_reason", "reason": last.pk, "direction": "down"})
    assert texts(review) == SEVEN[:5] + [SEVEN[6], SEVEN[5]]


def test_the_page_lists_reasons_in_order_with_move_buttons(client_for, lead, reasons, url):
    page = client_for(lead).get(url).content.decode()
    positions = [page.index(f'id="reason-{r.pk}-up"') for r in reasons]
    assert positions == sorted(positions)
    first, last = reasons[0].pk, reasons[-1].pk
    assert f'id="reason-{first}-up" class="secondary" aria-disabled="true"' in page
    assert f'id="reason-{last}-down" class="secondary" aria-disabled="true"' in page
    assert 'Move up<span class="visually-hidden">: Not in English</span>' in page


def test_lead_renames_a_used_reason_and_it_keeps_its_id(
    client_for, review, lead, reviewer, reviewer2, reasons, records, url
):
    exclude_at_full_text(records[0], (reviewer, reviewer2), (reasons[1], reasons[1]))
    target = reasons[1]
    response = client_for(lead).post(
        url,
        {"action": "rename_reason", "reason": target.pk,
         f"reason-{target.pk}-text": "Not published in English"},
    )  # fmt: skip
    assert response.status_code == 302
    target.refresh_from_db()
    assert (target.text, target.position) == ("Not published in English", 1)
    assert records[0].decisions.filter(stage="ft").first().reason_id == target.pk


def test_renaming_to_another_reasons_wording_is_refused(client_for, review, lead, reasons, url):
    target = reasons[1]
    response = client_for(lead).post(
        url,
        {"action": "rename_reason", "reason": target.pk,
         f"reason-{target.pk}-text": "not peer reviewed"},
    )  # fmt: skip
    assert response.status_code == 400
    page = response.content.decode()
    assert "The list already has “Not peer reviewed”." in page
    assert '<details class="rename" open>' in page
    assert texts(review) == SEVEN


def test_lead_removes_an_unused_reason(client_for, review, lead, reasons, url):
    response = client_for(lead).post(url, {"action": "remove_reason", "reason": reasons[2].pk})
    assert response.status_code == 302
    assert rows(review) == [(r.pk, r.text, pos) for pos, r in enumerate(reasons[:2] + reasons[3:])]


def test_removing_a_used_reason_is_refused_and_names_the_counts(
    client_for, review, lead, reviewer, reviewer2, reasons, records, url
):
    # Record 0: both exclude for reason 3. Record 1: a conflict (reasons 3 and 4) that the
    # lead resolves with reason 4.
    exclude_at_full_text(records[0], (reviewer, reviewer2), (reasons[3], reasons[3]))
    exclude_at_full_text(records[1], (reviewer, reviewer2), (reasons[3], reasons[4]))
    resolve_conflict(record=records[1], stage="ft", user=lead, value="exclude", reason=reasons[4])
    before = rows(review)
    client = client_for(lead)
    page = client.post(url, {"action": "remove_reason", "reason": reasons[3].pk})
    assert page.status_code == 400
    assert (
        "“Not a community setting” is used by 3 decisions, so it cannot be removed. Rename it "
        "instead if its wording should change." in page.content.decode()
    )
    page = client.post(url, {"action": "remove_reason", "reason": reasons[4].pk})
    assert "“Participants not service users” is used by 1 decision and 1 resolution" in (
        page.content.decode()
    )
    assert rows(review) == before
    # The page shows the counts and offers no Remove button for a used reason.
    listing = client.get(url).content.decode()
    assert "Used by 3 decisions." in listing
    assert "Used by 1 decision and 1 resolution." in listing
    assert 'Remove<span class="visually-hidden">: Not a community setting</span>' not in listing
    assert 'Remove<span class="visually-hidden">: Not in English</span>' in listing


def test_the_text_mode_keeps_ids_of_unchanged_lines(client_for, review, lead, reasons, url):
    lines = [
        "Not peer reviewed",  # moved from last to first
        "Not in English",
        "not a community setting",  # only the case changed: same reason, new wording
        "Participants aged under 15",  # a new wording: a new reason, the old one removed
        "",
        "Published in or before 2007",
        "Not accessing support for mental health",
        "Not in English",  # a repeat, kept once
    ]
    response = client_for(lead).post(
        url, {"action": "replace_reasons", "lines": "\r\n".join(lines)}, follow=True
    )
    assert "Saved the list of 6 exclusion reasons (1 added, 1 renamed, 2 removed)." in (
        response.content.decode()
    )
    saved = rows(review)
    by_old = {r.text: r.pk for r in reasons}
    assert [(pk, text) for pk, text, _ in saved] == [
        (by_old["Not peer reviewed"], "Not peer reviewed"),
        (by_old["Not in English"], "Not in English"),
        (by_old["Not a community setting"], "not a community setting"),
        (saved[3][0], "Participants aged under 15"),
        (by_old["Published in or before 2007"], "Published in or before 2007"),
        (by_old["Not accessing support for mental health"],
         "Not accessing support for mental health"),
    ]  # fmt: skip
    assert saved[3][0] not in by_old.values()
    assert [position for _, _, position in saved] == [0, 1, 2, 3, 4, 5]


def test_the_text_mode_refuses_to_drop_a_used_reason(
    client_for, review, lead, reviewer, reviewer2, reasons, records, url
):
    exclude_at_full_text(records[0], (reviewer, reviewer2), (reasons[6], reasons[6]))
    before = rows(review)
    response = client_for(lead).post(
        url, {"action": "replace_reasons", "lines": "\n".join(["New first", *SEVEN[:6]])}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "“Not peer reviewed” is used by 2 decisions, so it cannot be removed." in page
    assert '<details class="reason-text-mode" open>' in page
    # What the lead typed is still there to correct.
    assert "New first\nPublished in or before 2007" in page
    assert rows(review) == before


def test_the_service_refuses_to_drop_a_used_reason(review, reviewer, reviewer2, reasons, records):
    exclude_at_full_text(records[0], (reviewer, reviewer2), (reasons[0], reasons[0]))
    with pytest.raises(ReasonInUse) as refused:
        set_exclusion_reasons(review, SEVEN[1:])
    assert [(reason.pk, n, m) for reason, n, m in refused.value.uses] == [(reasons[0].pk, 2, 0)]
    assert texts(review) == SEVEN


def test_a_reason_longer_than_300_characters_is_refused(client_for, review, lead, url):
    response = client_for(lead).post(
        url, {"action": "replace_reasons", "lines": "Fine\n" + "x" * 301}
    )
    assert response.status_code == 400
    assert "A reason can be at most 300 characters" in response.content.decode()
    assert texts(review) == []


# --------------------------------------------------------------------------- highlight terms


def terms(review, user=None):
    return list(
        HighlightTerm.objects.filter(review=review, user=user)
        .order_by("kind", "term")
        .values_list("kind", "term")
    )


def test_lead_saves_highlight_terms_deduplicated(client_for, review, lead, reviewer, url):
    HighlightTerm.objects.create(review=review, user=None, kind="include", term="obsolete")
    HighlightTerm.objects.create(review=review, user=None, kind="include", term="stigma*")
    HighlightTerm.objects.create(review=review, user=reviewer, kind="include", term="mine")
    kept = HighlightTerm.objects.get(term="stigma*").pk
    response = client_for(lead).post(
        url,
        {
            "action": "terms",
            "include": "stigma*\r\n  peer   support \r\n\r\nPeer Support\r\ntrust",
            "exclude": "child*\nadolescen*\nCHILD*\n",
        },
        follow=True,
    )
    assert "Highlight terms saved: 3 include terms and 2 exclude terms." in (
        response.content.decode()
    )
    assert terms(review) == [
        ("exclude", "adolescen*"),
        ("exclude", "child*"),
        ("include", "peer support"),
        ("include", "stigma*"),
        ("include", "trust"),
    ]
    assert HighlightTerm.objects.get(user=None, term="stigma*").pk == kept
    assert terms(review, reviewer) == [("include", "mine")]


@pytest.mark.parametrize(
    ("include", "exclude", "message"),
    [
        ("\n".join(f"term{n}" for n in range(201)), "", "Enter at most 200 terms (201 given)."),
        ("x" * 101, "", "Line 1 has 101 characters; a term can have at most 100."),
        ("ok\ncare *", "", "Line 2 (“care *”): a * may only end a word stem"),
        ("*", "", "Line 1 (“*”): a * may only end a word stem"),
        ("a*b", "", "Line 1 (“a*b”): a * may only end a word stem"),
        ("Trust\npeer", "PEER", "A term cannot be both an include and an exclude term: “peer”."),
        (
            "\n".join(f"inc{n}" for n in range(150)),
            "\n".join(f"exc{n}" for n in range(51)),
            "Enter at most 200 include and exclude terms in all (201 given).",
        ),
    ],
)
def test_bad_highlight_terms_are_refused(client_for, review, lead, url, include, exclude, message):
    HighlightTerm.objects.create(review=review, user=None, kind="include", term="kept")
    response = client_for(lead).post(url, {"action": "terms", "include": include,
                                           "exclude": exclude})  # fmt: skip
    assert response.status_code == 400
    assert message in response.content.decode()
    assert terms(review) == [("include", "kept")]


def test_two_hundred_terms_of_a_hundred_characters_are_accepted(review):
    include = [f"{n:03d}" + "x" * 97 for n in range(150)]
    exclude = [f"{n:03d}" + "y" * 97 for n in range(50)]
    saved = settings_services.set_highlight_terms(review, include=include, exclude=exclude)
    assert saved == {"include": include, "exclude": exclude}
    assert HighlightTerm.objects.filter(review=review, user=None).count() == 200


def test_saved_terms_show_one_per_line(client_for, review, lead, url):
    settings_services.set_highlight_terms(review, include=["trust", "peer"], exclude=["child*"])
    page = client_for(lead).get(url).content.decode()
    assert ">\npeer\ntrust</textarea>" in page
    assert ">\nchild*</textarea>" in page


# --------------------------------------------------------------------------- queries


# 2 of the queries are sign-in bookkeeping (session, user); the page itself
# makes 6: membership, settings, reasons with their use counts, adjudicators, reviewers, terms.
def test_page_query_count_does_not_grow_with_reasons_terms_or_reviewers(
    client_for, review, lead, reviewer, reviewer2, records, url, django_assert_num_queries
):
    client = client_for(lead)
    set_exclusion_reasons(review, ["Not in English"])
    client.get(url)
    with django_assert_num_queries(8):
        assert client.get(url).status_code == 200

    set_exclusion_reasons(review, SEVEN)
    reasons_ = list(ExclusionReason.objects.filter(review=review))
    exclude_at_full_text(records[0], (reviewer, reviewer2), (reasons_[0], reasons_[1]))
    resolve_conflict(record=records[0], stage="ft", user=lead, value="exclude", reason=reasons_[0])
    settings_services.set_highlight_terms(
        review, include=[f"inc{n}" for n in range(50)], exclude=[f"exc{n}" for n in range(50)]
    )
    for _ in range(5):
        MembershipFactory(review=review, role=Role.REVIEWER)
    config_for(review).adjudicators.set([reviewer, reviewer2])
    with django_assert_num_queries(8):
        assert client.get(url).status_code == 200
