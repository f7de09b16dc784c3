"""The lead's pages for preparing what the Advisory Group sees: the summary, each theme's
plain wording and sharing, and the shared excerpts (redactions, content notes, order,
stopping). Only the lead reaches them."""

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from advisory.models import AdvisorySpace, Comment, Redaction, SharedExcerpt, SharedTheme
from advisory.redaction import display_text
from coding.codebook import create_code
from coding.documents import add_document
from coding.excerpts import create_excerpt
from coding.models import Excerpt, ThemeRevision
from screening.models import Record, Study, StudyReport
from tests.factories import ReviewFactory
from tests.screening.factories import import_file, ris_bytes, work

pytestmark = pytest.mark.django_db

TEXT = (
    "Sam said the nurse, Sam's key worker, never believed him. "
    "At Riverside ward nobody listened. Sam left. "
    + "".join(f"Sentence {i:02d} about care and harm. " for i in range(40))
)


def document(study, user, text=TEXT):
    doc = add_document(study=study, title=f"Findings of {study.label}", text=text,
                       source="paste", user=user)  # fmt: skip
    return doc.versions.get()


def excerpt(version, coder, start, end, *codes):
    return create_excerpt(version=version, coder=coder, start=start, end=end,
                          code_ids=[c.pk for c in codes])  # fmt: skip


def make_excerpts(version, coder, count, *codes):
    for i in range(count):
        excerpt(version, coder, 200 + i * 10, 200 + i * 10 + 5, *codes)


@pytest.fixture
def studies(review):
    return [
        Study.objects.create(review=review, label=label) for label in ("Adams 2019", "Baker 2021")
    ]


@pytest.fixture
def codebook(review, lead):
    """Themes "Trust" (with code "Being believed" and its sub-code "Disbelief") and "Access"."""
    trust = create_code(review=review, user=lead, name="Trust")
    believed = create_code(review=review, user=lead, name="Being believed", parent=trust)
    disbelief = create_code(review=review, user=lead, name="Disbelief", parent=believed)
    access = create_code(review=review, user=lead, name="Access")
    return {"trust": trust, "believed": believed, "disbelief": disbelief, "access": access}


@pytest.fixture
def versions(studies, lead):
    return [document(study, lead) for study in studies]


@pytest.fixture
def shared(review, lead, codebook, versions):
    """One excerpt of the whole first sentence, shared under "Trust"."""
    sentence = excerpt(versions[0], lead, 0, 57, codebook["trust"])
    theme = SharedTheme.objects.create(review=review, theme=codebook["trust"])
    return SharedExcerpt.objects.create(shared_theme=theme, excerpt=sentence, shared_by=lead)


def theme_url(review, code):
    return reverse("shared_theme_edit", args=[review.slug, code.pk])


def excerpt_url(review, shared):
    return reverse("shared_excerpt_edit", args=[review.slug, shared.pk])


def said(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def theme_form(**changes):
    data = {
        "plain_title": "Being believed",
        "plain_description": "Whether staff believed what people told them.",
        "content_note": "",
        "reason": "",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


# --------------------------------------------------------------------------- who may enter


def every_url(review, codebook, shared):
    redaction = Redaction.objects.create(shared_excerpt=shared, start=0, end=3)
    trust = codebook["trust"]
    return [
        ("get", reverse("advisory_manage", args=[review.slug]), {}),
        ("get", reverse("advisory_summary_edit", args=[review.slug]), {}),
        ("post", reverse("advisory_summary_edit", args=[review.slug]), {"summary": "Hacked"}),
        ("get", theme_url(review, trust), {}),
        ("post", theme_url(review, trust), theme_form(shared="on")),
        ("post", reverse("shared_excerpt_add", args=[review.slug, trust.pk]),
         {"excerpt": shared.excerpt_id}),
        ("get", excerpt_url(review, shared), {}),
        ("post", excerpt_url(review, shared), {"content_note": "Hacked"}),
        ("post", reverse("redaction_add", args=[review.slug, shared.pk]), {"quote": "Sam"}),
        ("post", reverse("redaction_delete", args=[review.slug, shared.pk, redaction.pk]), {}),
        ("get", reverse("shared_excerpt_unshare", args=[review.slug, shared.pk]), {}),
        ("post", reverse("shared_excerpt_unshare", args=[review.slug, shared.pk]), {}),
        ("post", reverse("shared_excerpt_move", args=[review.slug, shared.pk]),
         {"direction": "up"}),
    ]  # fmt: skip


@pytest.mark.parametrize(("persona", "status"), [("reviewer", 403), ("advisory", 403),
                                                 ("outsider", 404)])  # fmt: skip
def test_only_the_lead_reaches_any_page(client_for, personas, review, codebook, shared, persona,
                                        status):  # fmt: skip
    client = client_for(personas[persona])
    for method, url, data in every_url(review, codebook, shared):
        response = getattr(client, method)(url, data)
        assert response.status_code == status, (method, url)
    # Nothing changed on the way.
    assert SharedExcerpt.objects.filter(pk=shared.pk).exists()
    assert Redaction.objects.filter(shared_excerpt=shared).count() == 1
    shared.refresh_from_db()
    shared.shared_theme.refresh_from_db()
    assert shared.content_note == ""
    assert shared.shared_theme.shared is False
    assert not AdvisorySpace.objects.filter(summary="Hacked").exists()


def test_signed_out_visitors_are_sent_to_sign_in(client_for, review, codebook, shared):
    client = client_for(None)
    for method, url, data in every_url(review, codebook, shared):
        response = getattr(client, method)(url, data)
        assert response.status_code == 302, (method, url)
        assert response["Location"].startswith(reverse("account_login"))
    assert SharedExcerpt.objects.filter(pk=shared.pk).exists()


def test_the_lead_reaches_every_page(client_for, review, lead, codebook, shared):
    client = client_for(lead)
    for method, url, _ in every_url(review, codebook, shared):
        if method == "get":
            assert client.get(url).status_code == 200, url


@pytest.mark.parametrize(
    "name", ["shared_excerpt_add", "redaction_add", "shared_excerpt_move", "redaction_delete"]
)
def test_actions_refuse_get(client_for, review, lead, codebook, shared, name):
    redaction = Redaction.objects.create(shared_excerpt=shared, start=0, end=3)
    args = {
        "shared_excerpt_add": [codebook["trust"].pk],
        "redaction_add": [shared.pk],
        "shared_excerpt_move": [shared.pk],
        "redaction_delete": [shared.pk, redaction.pk],
    }[name]
    response = client_for(lead).get(reverse(name, args=[review.slug, *args]))
    assert response.status_code == 405


def test_overview_refuses_post(client_for, review, lead):
    assert client_for(lead).post(reverse("advisory_manage", args=[review.slug])).status_code == 405


# --------------------------------------------------------------------------- the overview


def test_overview_lists_every_theme_in_codebook_order_with_what_the_group_sees(
    client_for, review, lead, codebook, shared
):
    theme = shared.shared_theme
    theme.plain_title, theme.content_note, theme.shared = (
        "Being believed",
        "mentions of abuse",
        True,
    )
    theme.save()
    AdvisorySpace.objects.create(review=review, summary="We looked at harm in care.")

    response = client_for(lead).get(reverse("advisory_manage", args=[review.slug]))

    assert response.status_code == 200
    rows = [(t.name, t.sharing, t.shared_excerpts) for t in response.context["themes"]]
    assert rows == [("Trust", theme, 1), ("Access", None, 0)]
    page = response.content.decode()
    assert "We looked at harm in care." in page
    assert page.index(">Trust<") < page.index(">Access<")
    assert "Being believed" in page and "mentions of abuse" in page
    assert ">Shared<" in page and ">Not shared<" in page
    assert reverse("advisory_summary_edit", args=[review.slug]) in page
    assert theme_url(review, codebook["access"]) in page
    # Sub-codes are not themes.
    assert "Disbelief" not in page


def test_overview_query_count_does_not_grow_with_themes(client_for, queries_of, review, lead,
                                                        codebook, shared):  # fmt: skip
    AdvisorySpace.objects.create(review=review, summary="About harm.", updated_by=lead)
    url = reverse("advisory_manage", args=[review.slug])
    client = client_for(lead)
    few = queries_of(client, url)
    for n in range(8):
        theme = create_code(review=review, user=lead, name=f"Theme {n}")
        SharedTheme.objects.create(review=review, theme=theme, shared=n % 2 == 0)
    assert len(client.get(url).context["themes"]) == 10
    assert queries_of(client, url) == few


# --------------------------------------------------------------------------- the summary


def test_lead_edits_the_summary(client_for, review, lead):
    response = client_for(lead).post(
        reverse("advisory_summary_edit", args=[review.slug]),
        {"summary": "  We read studies about harm in mental health care.\r\nThen we talked.  "},
    )
    assert response.status_code == 302
    space = AdvisorySpace.objects.get(review=review)
    assert space.summary == "We read studies about harm in mental health care.\nThen we talked."
    assert space.updated_by == lead
    assert space.updated_at is not None


def test_summary_page_encourages_plain_language(client_for, review, lead):
    page = client_for(lead).get(reverse("advisory_summary_edit", args=[review.slug]))
    assert "short sentences" in page.content.decode()


# --------------------------------------------------------------------------- a theme


def test_theme_page_makes_the_shared_theme_once(client_for, review, lead, codebook):
    client = client_for(lead)
    assert client.get(theme_url(review, codebook["trust"])).status_code == 200
    assert client.get(theme_url(review, codebook["trust"])).status_code == 200
    theme = SharedTheme.objects.get(theme=codebook["trust"])
    assert (theme.review_id, theme.shared, theme.shared_at) == (review.pk, False, None)


def test_theme_page_is_404_for_a_sub_code_or_another_reviews_code(client_for, review, lead,
                                                                  codebook):  # fmt: skip
    foreign = create_code(review=ReviewFactory(), user=lead, name="Elsewhere")
    client = client_for(lead)
    for code in (codebook["believed"], codebook["disbelief"], foreign):
        assert client.get(theme_url(review, code)).status_code == 404
        assert (
            client.post(
                reverse("shared_excerpt_add", args=[review.slug, code.pk]), {"excerpt": 1}
            ).status_code
            == 404
        )
    assert not SharedTheme.objects.exists()


def test_saving_plain_wording_records_a_revision_with_the_reason(client_for, review, lead,
                                                                 codebook):  # fmt: skip
    trust = codebook["trust"]
    SharedTheme.objects.create(review=review, theme=trust, plain_title="Trust",
                               plain_description="Old words.")  # fmt: skip
    response = client_for(lead).post(
        theme_url(review, trust),
        theme_form(plain_description="Whether staff believed people.",
                   reason="The group said 'trust' was too vague."),
    )  # fmt: skip
    assert response.status_code == 302

    theme = SharedTheme.objects.get(theme=trust)
    assert theme.plain_title == "Being believed"
    assert theme.plain_description == "Whether staff believed people."
    revision = ThemeRevision.objects.get(theme=trust)
    assert revision.before == {"plain_title": "Trust", "plain_description": "Old words."}
    assert revision.after == {
        "plain_title": "Being believed",
        "plain_description": "Whether staff believed people.",
    }
    assert revision.reason == "The group said 'trust' was too vague."
    assert revision.author == lead
    assert revision.review == review
    assert revision.theme_name == "Trust"


def test_only_changed_plain_fields_go_in_the_revision_and_no_change_records_none(
    client_for, review, lead, codebook
):
    trust = codebook["trust"]
    client = client_for(lead)
    client.post(theme_url(review, trust), theme_form())
    first = ThemeRevision.objects.get(theme=trust)
    assert first.before == {"plain_title": "", "plain_description": ""}

    # The same words again (with a browser's line endings), and a new content note only.
    client.post(theme_url(review, trust), theme_form(content_note="mentions of restraint"))
    assert ThemeRevision.objects.filter(theme=trust).count() == 1
    assert SharedTheme.objects.get(theme=trust).content_note == "mentions of restraint"

    client.post(theme_url(review, trust), theme_form(plain_title="Believed", reason="Shorter."))
    latest = ThemeRevision.objects.filter(theme=trust).first()
    assert (latest.before, latest.after) == ({"plain_title": "Being believed"},
                                             {"plain_title": "Believed"})  # fmt: skip
    assert latest.reason == "Shorter."


def test_sharing_a_theme_sets_shared_at_and_stopping_clears_it(client_for, review, lead,
                                                               codebook):  # fmt: skip
    trust = codebook["trust"]
    client = client_for(lead)
    client.post(theme_url(review, trust), theme_form(shared="on"))
    theme = SharedTheme.objects.get(theme=trust)
    assert theme.shared is True
    first = theme.shared_at
    assert first is not None

    # Saved again while shared: still the moment it was first shown.
    client.post(theme_url(review, trust), theme_form(shared="on", content_note="mentions of harm"))
    theme.refresh_from_db()
    assert (theme.shared, theme.shared_at) == (True, first)

    client.post(theme_url(review, trust), theme_form())
    theme.refresh_from_db()
    assert (theme.shared, theme.shared_at) == (False, None)


def test_theme_form_errors_rerender_with_400(client_for, review, lead, codebook):
    response = client_for(lead).post(theme_url(review, codebook["trust"]),
                                     theme_form(plain_title="x" * 201))  # fmt: skip
    assert response.status_code == 400
    assert SharedTheme.objects.get(theme=codebook["trust"]).plain_title == ""
    assert not ThemeRevision.objects.exists()


def test_theme_form_has_the_labels_the_lead_needs(client_for, review, lead, codebook):
    page = client_for(lead).get(theme_url(review, codebook["trust"])).content.decode()
    assert "Show this theme to the Advisory Group" in page
    assert "Why are you changing this?" in page
    assert "Describe distressing material briefly, e.g. 'mentions of self-harm'" in page


def test_theme_page_lists_every_coders_excerpts_under_the_theme(
    client_for, review, lead, reviewer, studies, codebook, versions
):
    import_file(review, ris_bytes([work(1)]), user=lead)
    StudyReport.objects.create(study=studies[0], record=Record.objects.get(review=review),
                               is_primary=True)  # fmt: skip
    on_theme = excerpt(versions[0], lead, 0, 20, codebook["trust"])
    on_sub_code = excerpt(versions[1], reviewer, 60, 80, codebook["disbelief"])
    elsewhere = excerpt(versions[0], lead, 100, 120, codebook["access"])
    theme = SharedTheme.objects.create(review=review, theme=codebook["trust"])
    already = SharedExcerpt.objects.create(shared_theme=theme, excerpt=on_sub_code)

    response = client_for(lead).get(theme_url(review, codebook["trust"]))

    shown = {e.pk: e for e in response.context["excerpts"]}
    assert set(shown) == {on_theme.pk, on_sub_code.pk}
    assert elsewhere.pk not in shown
    assert shown[on_theme.pk].citation.startswith("Author1 and Second (2011).")
    assert shown[on_theme.pk].shared_id is None
    assert shown[on_sub_code.pk].shared_id == already.pk
    page = response.content.decode()
    assert "Rita Reviewer" in page and "Lena Lead" in page
    assert "Share this excerpt" in page
    assert excerpt_url(review, already) in page


def test_theme_page_paginates_by_50(client_for, review, lead, codebook, versions):
    make_excerpts(versions[0], lead, 51, codebook["trust"])
    client = client_for(lead)
    first = client.get(theme_url(review, codebook["trust"]))
    assert len(first.context["excerpts"]) == 50
    second = client.get(theme_url(review, codebook["trust"]) + "?page=2")
    assert len(second.context["excerpts"]) == 1


def test_theme_page_query_count_does_not_grow_with_excerpts(
    client_for, queries_of, review, lead, reviewer, studies, codebook, versions
):
    import_file(review, ris_bytes([work(1), work(2)]), user=lead)
    for study, record in zip(studies, Record.objects.filter(review=review).order_by("id"),
                             strict=True):  # fmt: skip
        StudyReport.objects.create(study=study, record=record, is_primary=True)
    trust = codebook["trust"]
    url = theme_url(review, trust)
    client = client_for(lead)

    def share_some(count):
        theme = SharedTheme.objects.get(theme=trust)
        for e in Excerpt.objects.filter(shared_as=None, applied__code=trust)[:count]:
            item = SharedExcerpt.objects.create(shared_theme=theme, excerpt=e)
            Redaction.objects.create(shared_excerpt=item, start=0, end=2)
            Comment.objects.create(review=review, shared_theme=theme, shared_excerpt=item,
                                   author=lead, body="A thought.")  # fmt: skip

    make_excerpts(versions[0], lead, 2, trust)
    client.get(url)
    share_some(1)
    few = queries_of(client, url)
    make_excerpts(versions[0], lead, 15, trust)
    make_excerpts(versions[1], reviewer, 15, codebook["disbelief"])
    share_some(6)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert len(response.context["excerpts"]) == 32
    assert len(response.context["shared_excerpts"]) == 7
    assert queries_of(client, url) == few
    # The document's text (which can be huge) is never read.
    assert not any('"coding_documentversion"."text"' in q["sql"] for q in ctx.captured_queries)


# --------------------------------------------------------------------------- sharing excerpts


def test_sharing_excerpts_puts_them_last_and_twice_is_harmless(
    client_for, review, lead, reviewer, codebook, versions
):
    first = excerpt(versions[0], lead, 0, 20, codebook["trust"])
    second = excerpt(versions[1], reviewer, 60, 80, codebook["disbelief"])
    url = reverse("shared_excerpt_add", args=[review.slug, codebook["trust"].pk])
    client = client_for(lead)

    response = client.post(url, {"excerpt": first.pk})
    made = SharedExcerpt.objects.get(excerpt=first)
    assert response.status_code == 302
    assert response["Location"] == excerpt_url(review, made)
    client.post(url, {"excerpt": second.pk})
    client.post(url, {"excerpt": first.pk})

    rows = list(SharedExcerpt.objects.order_by("position").values_list(
        "excerpt_id", "position", "shared_by_id", "shared_theme__theme_id"))  # fmt: skip
    trust = codebook["trust"].pk
    assert rows == [(first.pk, 0, lead.pk, trust), (second.pk, 1, lead.pk, trust)]


def test_sharing_an_excerpt_from_outside_the_theme_is_refused(client_for, review, lead, codebook,
                                                              versions):  # fmt: skip
    elsewhere = excerpt(versions[0], lead, 0, 20, codebook["access"])
    other_review = ReviewFactory()
    foreign_study = Study.objects.create(review=other_review, label="Foreign 2020")
    foreign_theme = create_code(review=other_review, user=lead, name="Trust")
    foreign = excerpt(document(foreign_study, lead), lead, 0, 20, foreign_theme)
    url = reverse("shared_excerpt_add", args=[review.slug, codebook["trust"].pk])
    client = client_for(lead)
    assert client.post(url, {"excerpt": elsewhere.pk}).status_code == 404
    assert client.post(url, {"excerpt": foreign.pk}).status_code == 404
    assert client.post(url, {"excerpt": "not a number"}).status_code == 400
    assert not SharedExcerpt.objects.exists()


def test_sharing_under_a_shared_theme_warns_the_group_sees_it_now(client_for, review, lead,
                                                                  codebook, versions):  # fmt: skip
    coded = excerpt(versions[0], lead, 0, 20, codebook["trust"])
    SharedTheme.objects.create(review=review, theme=codebook["trust"], shared=True)
    response = client_for(lead).post(
        reverse("shared_excerpt_add", args=[review.slug, codebook["trust"].pk]),
        {"excerpt": coded.pk},
    )
    assert any("can see this excerpt now" in m for m in said(response))


# --------------------------------------------------------------------------- a shared excerpt


def test_excerpt_page_shows_the_original_beside_what_the_group_sees(client_for, review, lead,
                                                                    shared):  # fmt: skip
    Redaction.objects.create(shared_excerpt=shared, start=20, end=23, replacement="Participant A")
    response = client_for(lead).get(excerpt_url(review, shared))
    assert (
        response.context["display"]
        == "Sam said the nurse, Participant A's key worker, never believed him."
    )
    page = response.content.decode()
    assert "The original" in page and "What the group sees" in page
    assert "Sam said the nurse, Sam&#x27;s key worker" in page


def test_pseudonymising_every_occurrence(client_for, review, lead, shared):
    response = client_for(lead).post(
        reverse("redaction_add", args=[review.slug, shared.pk]),
        {"quote": "Sam", "replacement": "Participant A", "occurrence": ""},
    )
    assert response.status_code == 302
    spans = list(shared.redactions.values_list("start", "end", "replacement"))
    assert spans == [(0, 3, "Participant A"), (20, 23, "Participant A")]
    assert display_text(shared.excerpt.text, shared.redactions.all()) == (
        "Participant A said the nurse, Participant A's key worker, never believed him."
    )
    # The researchers keep the original.
    assert Excerpt.objects.get(pk=shared.excerpt_id).text == (
        "Sam said the nurse, Sam's key worker, never believed him."
    )


def test_removing_one_occurrence_with_the_default_replacement(client_for, review, lead, shared):
    client_for(lead).post(
        reverse("redaction_add", args=[review.slug, shared.pk]),
        {"quote": "Sam", "replacement": "", "occurrence": "2"},
    )
    assert display_text(shared.excerpt.text, shared.redactions.all()) == (
        "Sam said the nurse, [removed]'s key worker, never believed him."
    )


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"quote": "Riverside"}, "not in the excerpt"),
        ({"quote": "Sam", "occurrence": "3"}, "appear 2 time(s)"),
        ({"quote": "   "}, "This field is required"),
    ],
)
def test_redactions_that_cannot_be_made_are_explained(client_for, review, lead, shared, data,
                                                      error):  # fmt: skip
    response = client_for(lead).post(reverse("redaction_add", args=[review.slug, shared.pk]), data)
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not Redaction.objects.exists()


def test_removing_a_redaction(client_for, review, lead, shared, codebook, versions):
    redaction = Redaction.objects.create(shared_excerpt=shared, start=0, end=3)
    other = SharedExcerpt.objects.create(
        shared_theme=shared.shared_theme,
        excerpt=excerpt(versions[1], lead, 0, 20, codebook["trust"]),
    )
    client = client_for(lead)
    # Through another excerpt's address: not found, and kept.
    wrong = reverse("redaction_delete", args=[review.slug, other.pk, redaction.pk])
    assert client.post(wrong).status_code == 404
    assert Redaction.objects.filter(pk=redaction.pk).exists()

    response = client.post(reverse("redaction_delete", args=[review.slug, shared.pk, redaction.pk]))
    assert response.status_code == 302
    assert not Redaction.objects.filter(pk=redaction.pk).exists()
    assert display_text(shared.excerpt.text, shared.redactions.all()) == shared.excerpt.text


def test_content_note_on_an_excerpt(client_for, review, lead, shared):
    client_for(lead).post(excerpt_url(review, shared), {"content_note": " mentions of restraint "})
    shared.refresh_from_db()
    assert shared.content_note == "mentions of restraint"


def test_excerpt_of_another_review_is_404(client_for, lead, shared):
    other = ReviewFactory()
    from reviewapp.models import Membership, Role

    Membership.objects.create(review=other, user=lead, role=Role.LEAD)
    url = reverse("shared_excerpt_edit", args=[other.slug, shared.pk])
    assert client_for(lead).get(url).status_code == 404


# --------------------------------------------------------------------------- stopping


def test_stopping_sharing_an_excerpt_without_comments(client_for, review, lead, shared):
    url = reverse("shared_excerpt_unshare", args=[review.slug, shared.pk])
    client = client_for(lead)
    confirm = client.get(url)
    assert "Stop sharing this excerpt" in confirm.content.decode()
    assert SharedExcerpt.objects.filter(pk=shared.pk).exists()

    response = client.post(url)
    assert response.status_code == 302
    assert not SharedExcerpt.objects.filter(pk=shared.pk).exists()
    # The coding stays.
    assert Excerpt.objects.filter(pk=shared.excerpt_id).exists()


def test_an_excerpt_with_comments_stays_shared(client_for, review, lead, advisory, shared):
    Comment.objects.create(review=review, shared_theme=shared.shared_theme,
                           shared_excerpt=shared, author=advisory, body="This is me.")  # fmt: skip
    Comment.objects.create(review=review, shared_theme=shared.shared_theme,
                           shared_excerpt=shared, author=advisory, body="",
                           withdrawn_at="2025-01-01T00:00:00Z")  # fmt: skip
    url = reverse("shared_excerpt_unshare", args=[review.slug, shared.pk])
    client = client_for(lead)

    confirm = client.get(url).content.decode()
    assert "2 comments" in confirm
    assert 'class="danger"' not in confirm

    response = client.post(url)
    assert response.status_code == 302
    assert SharedExcerpt.objects.filter(pk=shared.pk).exists()
    assert Comment.objects.filter(shared_excerpt=shared).count() == 2
    assert any("2 comments" in m and "delete them" in m for m in said(response))


# --------------------------------------------------------------------------- order


def test_moving_shared_excerpts_up_and_down(client_for, review, lead, shared, codebook, versions):
    theme = shared.shared_theme
    second = SharedExcerpt.objects.create(
        shared_theme=theme, position=1, excerpt=excerpt(versions[1], lead, 0, 20, codebook["trust"])
    )
    third = SharedExcerpt.objects.create(
        shared_theme=theme,
        position=2,
        excerpt=excerpt(versions[1], lead, 30, 40, codebook["trust"]),
    )
    client = client_for(lead)

    def order():
        return list(SharedExcerpt.objects.filter(shared_theme=theme)
                    .order_by("position").values_list("pk", flat=True))  # fmt: skip

    move = reverse("shared_excerpt_move", args=[review.slug, third.pk])
    response = client.post(move, {"direction": "up"})
    assert response.status_code == 302
    assert response["Location"].endswith(f"#shared-{third.pk}")
    assert order() == [shared.pk, third.pk, second.pk]

    client.post(
        reverse("shared_excerpt_move", args=[review.slug, shared.pk]), {"direction": "down"}
    )
    assert order() == [third.pk, shared.pk, second.pk]
    assert list(SharedExcerpt.objects.order_by("position").values_list("position", flat=True)) == [
        0, 1, 2,
    ]  # fmt: skip

    # Already first: nothing moves, and the lead is told.
    response = client.post(move, {"direction": "up"})
    assert order() == [third.pk, shared.pk, second.pk]
    assert "already first" in " ".join(said(response))
    assert client.post(move, {"direction": "sideways"}).status_code == 400


def test_move_buttons_are_real_buttons(client_for, review, lead, shared, codebook, versions):
    SharedExcerpt.objects.create(
        shared_theme=shared.shared_theme, position=1,
        excerpt=excerpt(versions[1], lead, 0, 20, codebook["trust"]),
    )  # fmt: skip
    page = client_for(lead).get(theme_url(review, codebook["trust"])).content.decode()
    assert page.count('name="direction" value="up"') == 1
    assert page.count('name="direction" value="down"') == 1
