"""The codebook pages: the tree with its buttons, add, edit, merge, delete, export, import."""

import re
from html import unescape
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from coding.codebook import create_code, delete_impact, flatten, tree
from coding.documents import add_document
from coding.excerpts import create_excerpt
from coding.models import Code, CodingConfig, Excerpt, ExcerptCode, Memo
from reviewapp.models import Role
from screening.models import Study
from tests.factories import MembershipFactory, ReviewFactory

pytestmark = pytest.mark.django_db

REFI_QDA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "refi-qda"
SAMPLES = REFI_QDA / "samples"
needs_samples = pytest.mark.skipif(
    not SAMPLES.is_dir(),
    reason=f"the REFI-QDA sample files are not in {SAMPLES} (shared reference data)",
)
TEXT = "Peer workers listened. Stigma kept people away. Waiting lists were long. " * 3


def url(name, review, *args):
    return reverse(name, args=[review.slug, *args])


@pytest.fixture
def codes(review, lead):
    """Access > Stigma > Self-stigma, Access > Cost, and Support."""
    access = create_code(review=review, user=lead, name="Access")
    stigma = create_code(review=review, user=lead, name="Stigma", parent=access)
    self_stigma = create_code(review=review, user=lead, name="Self-stigma", parent=stigma)
    cost = create_code(review=review, user=lead, name="Cost", parent=access)
    support = create_code(review=review, user=lead, name="Support")
    return {"access": access, "stigma": stigma, "self_stigma": self_stigma, "cost": cost,
            "support": support}  # fmt: skip


@pytest.fixture
def version(review, lead):
    study = Study.objects.create(review=review, label="Smith 2020")
    document = add_document(study=study, title="Smith 2020", text=TEXT, source="paste", user=lead)
    return document.versions.get()


@pytest.fixture
def excerpt_on(version, lead):
    def make_excerpt(*codes, start=0, end=10, coder=None):
        return create_excerpt(version=version, coder=coder or lead, start=start, end=end,
                              code_ids=[code.pk for code in codes])  # fmt: skip

    return make_excerpt


def texts(response):
    """The messages shown on the page a change redirected to (which uses them up)."""
    assert response.status_code == 302
    page = response.client.get(response["Location"])
    assert page.status_code == 200
    return [str(m) for m in page.context["messages"]]


def tree_of(review):
    """(name, parent name, position) of every code, in the order the tree page shows them."""
    names = dict(Code.objects.filter(review=review).values_list("pk", "name"))
    return [
        (node.code.name, names.get(node.code.parent_id), node.code.position)
        for node in flatten(tree(review, counts=False))
    ]


def codes_of(excerpt):
    return sorted(ExcerptCode.objects.filter(excerpt=excerpt).values_list("code__name", flat=True))


def page_text(response):
    """The page's visible text with tags stripped and white space collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


# --------------------------------------------------------------------------------- who may

GET_PAGES = {
    "codebook": lambda codes: [],
    "code_add": lambda codes: [],
    "code_edit": lambda codes: [codes["stigma"].pk],
    "code_merge": lambda codes: [codes["stigma"].pk],
    "code_delete": lambda codes: [codes["stigma"].pk],
    "codebook_export": lambda codes: [],
    "codebook_import": lambda codes: [],
}


@pytest.mark.parametrize("name", GET_PAGES)
@pytest.mark.parametrize(
    ("persona", "status"),
    [("lead", 200), ("reviewer", 200), ("advisory", 403), ("outsider", 404)],
)
def test_who_may_open_each_page(client_for, personas, review, codes, name, persona, status):
    response = client_for(personas[persona]).get(url(name, review, *GET_PAGES[name](codes)))
    assert response.status_code == status


def _posts(review, codes):
    """(url, data) of one change per view, each of which would alter the codebook."""
    stigma = codes["stigma"]
    return [
        (url("code_move", review, codes["cost"].pk), {"direction": "up"}),
        (url("code_add", review), {"name": "Waiting"}),
        (url("code_edit", review, stigma.pk), {"name": "Renamed", "colour": "#bfdbfe"}),
        (url("code_merge", review, stigma.pk), {"target": codes["cost"].pk}),
        (url("code_delete", review, stigma.pk),
         {"codes": 2, "excerpts": 0, "orphaned": 0, "memos": 0}),
        (url("codebook_import", review),
         {"file": SimpleUploadedFile("c.qdc", b"<CodeBook/>", "application/xml")}),
    ]  # fmt: skip


@pytest.mark.parametrize(("persona", "status"), [("advisory", 403), ("outsider", 404)])
def test_no_change_without_the_researcher_role(
    client_for, personas, review, codes, persona, status
):
    client = client_for(personas[persona])
    before = tree_of(review)
    for target, data in _posts(review, codes):
        assert client.post(target, data).status_code == status, target
    assert tree_of(review) == before


def test_anonymous_visitors_are_sent_to_sign_in(client_for, review, codes):
    for name in ("codebook", "codebook_export"):
        response = client_for(None).get(url(name, review))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize(
    ("name", "method", "args"),
    [
        ("codebook", "post", []),
        ("codebook_export", "post", []),
        ("code_move", "get", ["stigma"]),
        ("code_move", "put", ["stigma"]),
        ("code_edit", "delete", ["stigma"]),
    ],
)
def test_wrong_method_is_405(client_for, lead, review, codes, name, method, args):
    target = url(name, review, *[codes[arg].pk for arg in args])
    assert getattr(client_for(lead), method)(target).status_code == 405


def test_a_code_of_another_review_is_not_found(client_for, lead, review, codes):
    other = ReviewFactory()
    MembershipFactory(review=other, user=lead, role=Role.LEAD)
    foreign = create_code(review=other, user=lead, name="Elsewhere")
    client = client_for(lead)
    for name in ("code_edit", "code_merge", "code_delete"):
        assert client.get(url(name, review, foreign.pk)).status_code == 404
    assert client.post(url("code_move", review, foreign.pk), {"direction": "up"}).status_code == (
        404
    )


# ---------------------------------------------------------------------------- the tree page


def test_the_tree_is_nested_lists_with_levels_swatches_counts_and_named_buttons(
    client_for, reviewer, review, codes, excerpt_on
):
    excerpt_on(codes["stigma"], coder=reviewer)
    excerpt_on(codes["self_stigma"], start=20, end=30, coder=reviewer)
    response = client_for(reviewer).get(url("codebook", review))
    html = response.content.decode()
    assert response.status_code == 200
    tree_html = html[html.index('class="codebook-tree"') :]
    # Access's list item holds a nested list that holds Stigma's, which holds Self-stigma's.
    ids = [codes[name].pk for name in ("access", "stigma", "self_stigma")]
    assert re.search(r".*?<ul>.*?".join(f'id="code-{pk}"' for pk in ids), tree_html, re.S)
    text = page_text(response)
    assert "Theme Access" in text
    # The reviewer codes blind, so the counts are of their own excerpts.
    assert "Theme Access 0 of your excerpts; 2 with its sub-codes" in text
    assert "Code Stigma 1 of your excerpts; 2 with its sub-codes" in text
    assert "Sub-code Self-stigma 1 of your excerpts ↑ Up" in text
    assert 'fill="#fde68a"' in html  # the swatch, beside the name, never instead of it
    for label in (
        "Move “Stigma” up",
        "Move “Stigma” down",
        "Move “Cost” into “Stigma”, the code above",
        "Move “Stigma” out of “Access”",
        "Edit “Stigma”",
        "Merge “Stigma” into another code…",
        "Delete “Stigma”…",
    ):
        assert f'aria-label="{label}"' in html, label
    assert f"{url('code_add', review)}?parent={codes['access'].pk}" in html
    assert "Add a code under “Access”" in text
    assert "Add a sub-code under “Stigma”" in text
    # A sub-code is the deepest level: nothing can be added under it.
    assert "under “Self-stigma”" not in text
    assert 'name="direction" value="up"' in html
    # The anchor a move returns to can take focus, so it is where the keyboard user left off.
    assert f'id="code-{codes["stigma"].pk}" tabindex="-1"' in html


def test_buttons_that_cannot_act_say_so(client_for, lead, review, codes):
    html = client_for(lead).get(url("codebook", review)).content.decode()
    up = re.search(r'<button[^>]*aria-label="Move “Access” up"[^>]*>', html).group(0)
    out = re.search(r'<button[^>]*aria-label="Move “Access” out"[^>]*>', html).group(0)
    into = re.search(r'<button[^>]*aria-label="Move “Support” into[^"]*"[^>]*>', html).group(0)
    assert 'aria-disabled="true"' in up
    assert 'aria-disabled="true"' in out
    # Support under Access would be fine; Access's subtree is three deep but Support's is one.
    assert "aria-disabled" not in into


def test_blind_coders_count_only_their_own_excerpts(
    client_for, lead, reviewer, reviewer2, review, codes, excerpt_on
):
    excerpt_on(codes["support"], coder=reviewer)
    excerpt_on(codes["support"], start=20, end=30, coder=reviewer2)
    excerpt_on(codes["support"], start=40, end=50, coder=reviewer2)
    assert "Support 1 of your excerpts" in page_text(
        client_for(reviewer).get(url("codebook", review))
    )
    assert "Support 3 excerpts" in page_text(client_for(lead).get(url("codebook", review)))
    CodingConfig.objects.update_or_create(review=review, defaults={"comparison_open": True})
    assert "Support 3 excerpts" in page_text(client_for(reviewer).get(url("codebook", review)))


def test_an_empty_codebook_says_how_to_start(client_for, lead, review):
    response = client_for(lead).get(url("codebook", review))
    assert "The codebook is empty." in page_text(response)
    assert f'action="{url("code_add", review)}"' in response.content.decode()


def test_the_tree_page_makes_the_same_queries_for_one_code_or_many(
    client_for, lead, review, queries_of
):
    client = client_for(lead)
    theme = create_code(review=review, user=lead, name="Theme 0")
    one = queries_of(client, url("codebook", review))
    for n in range(1, 5):
        parent = create_code(review=review, user=lead, name=f"Theme {n}")
        code = create_code(review=review, user=lead, name=f"Code {n}", parent=parent)
        create_code(review=review, user=lead, name=f"Sub-code {n}", parent=code)
    create_code(review=review, user=lead, name="Another", parent=theme)
    assert queries_of(client, url("codebook", review)) == one


# ------------------------------------------------------------------------------------ moving


def test_move_up_redirects_to_the_moved_code_with_a_message(client_for, reviewer, review, codes):
    cost = codes["cost"]
    response = client_for(reviewer).post(url("code_move", review, cost.pk), {"direction": "up"})
    assert response.status_code == 302
    assert response["Location"] == f"{url('codebook', review)}#code-{cost.pk}"
    assert texts(response) == ["Moved “Cost” up: now 1 of 2."]
    assert tree_of(review) == [
        ("Access", None, 0), ("Cost", "Access", 0), ("Stigma", "Access", 1),
        ("Self-stigma", "Stigma", 0), ("Support", None, 1),
    ]  # fmt: skip


def test_move_in_and_out_say_where_the_code_went(client_for, lead, review, codes):
    client = client_for(lead)
    cost = codes["cost"]
    response = client.post(url("code_move", review, cost.pk), {"direction": "in"})
    assert texts(response) == ["Moved “Cost” into “Stigma”."]
    cost.refresh_from_db()
    assert (cost.parent_id, cost.position) == (codes["stigma"].pk, 1)

    response = client.post(url("code_move", review, cost.pk), {"direction": "out"})
    assert texts(response) == ["Moved “Cost” out of “Stigma”, into “Access”."]
    response = client.post(url("code_move", review, cost.pk), {"direction": "out"})
    assert texts(response) == ["Moved “Cost” out of “Access”: it is now a theme."]
    assert tree_of(review) == [
        ("Access", None, 0), ("Stigma", "Access", 0), ("Self-stigma", "Stigma", 0),
        ("Cost", None, 1), ("Support", None, 2),
    ]  # fmt: skip


def test_a_refused_move_shows_the_reason_as_an_error(client_for, lead, review, codes):
    client = client_for(lead)
    before = tree_of(review)
    access = codes["access"]
    response = client.post(url("code_move", review, access.pk), {"direction": "up"})
    assert response["Location"] == f"{url('codebook', review)}#code-{access.pk}"
    page = client.get(response["Location"])
    assert [(m.level_tag, str(m)) for m in page.context["messages"]] == [
        ("error", "“Access” is already first.")
    ]
    assert '<li class="message message-error">“Access” is already first.</li>' in (
        page.content.decode()
    )
    for direction in ("sideways", ""):
        response = client.post(url("code_move", review, access.pk), {"direction": direction})
        assert texts(response) == ["Use one of the move buttons."]
    assert tree_of(review) == before


def test_indenting_past_the_third_level_is_refused_in_plain_words(client_for, lead, review, codes):
    client = client_for(lead)
    response = client.post(url("code_move", review, codes["cost"].pk), {"direction": "up"})
    assert texts(response) == ["Moved “Cost” up: now 1 of 2."]
    before = tree_of(review)
    html = client.get(url("codebook", review)).content.decode()
    button = re.search(r'<button[^>]*aria-label="Move “Stigma” into[^>]*>', html).group(0)
    assert 'aria-label="Move “Stigma” into “Cost”, the code above"' in button
    assert 'aria-disabled="true"' in button
    # Stigma has a sub-code of its own: under Cost, that would be a fourth level.
    response = client.post(url("code_move", review, codes["stigma"].pk), {"direction": "in"})
    assert texts(response) == [
        "That would make the tree more than 3 levels deep (theme, code, sub-code)."
    ]
    assert tree_of(review) == before


# ------------------------------------------------------------------------------------ adding


def test_add_a_theme_from_the_tree_page(client_for, reviewer, review, codes):
    response = client_for(reviewer).post(url("code_add", review), {"name": "  Outcomes "})
    theme = Code.objects.get(name="Outcomes")
    assert response["Location"] == f"{url('codebook', review)}#code-{theme.pk}"
    assert texts(response) == ["Added “Outcomes” as a theme."]
    assert (theme.parent_id, theme.position, theme.created_by) == (None, 2, reviewer)


def test_add_a_code_under_a_chosen_parent(client_for, lead, review, codes):
    client = client_for(lead)
    access = codes["access"]
    page = client.get(url("code_add", review) + f"?parent={access.pk}")
    html = page.content.decode()
    assert "Add a code under “Access”" in page_text(page)
    assert f'<option value="{access.pk}" selected>Access</option>' in html
    # A sub-code cannot have codes under it, so it is not offered as a parent.
    assert f'value="{codes["self_stigma"].pk}"' not in html
    assert f'<option value="{codes["stigma"].pk}">\xa0\xa0\xa0\xa0Stigma</option>' in html

    response = client.post(url("code_add", review), {
        "name": "Waiting", "description": "Time to first contact.",
        "inclusion_notes": "Delays", "exclusion_notes": "Cost of travel",
        "colour": "#bbf7d0", "parent": access.pk,
    })  # fmt: skip
    code = Code.objects.get(name="Waiting")
    assert texts(response) == ["Added “Waiting” under “Access”."]
    assert (code.parent_id, code.position, code.description, code.inclusion_notes,
            code.exclusion_notes, code.colour) == (
        access.pk, 2, "Time to first contact.", "Delays", "Cost of travel", "#bbf7d0"
    )  # fmt: skip


def test_add_without_a_name_shows_the_problem(client_for, lead, review, codes):
    response = client_for(lead).post(url("code_add", review), {"name": "  "})
    assert response.status_code == 400
    assert "There is a problem" in page_text(response)
    assert "Name: This field is required." in page_text(response)
    assert Code.objects.filter(review=review).count() == 5


def test_add_under_a_sub_code_is_refused(client_for, lead, review, codes):
    response = client_for(lead).post(
        url("code_add", review), {"name": "Deep", "parent": codes["self_stigma"].pk}
    )
    assert response.status_code == 400
    assert "Select a valid choice" in page_text(response)
    assert not Code.objects.filter(name="Deep").exists()


# ----------------------------------------------------------------------------------- editing


def test_edit_page_shows_the_code_with_named_colours_and_possible_parents(
    client_for, reviewer, review, codes
):
    stigma = codes["stigma"]
    response = client_for(reviewer).get(url("code_edit", review, stigma.pk))
    html = response.content.decode()
    assert 'value="Stigma"' in html
    assert re.search(r'<input type="radio" name="colour" value="#fde68a"[^>]*checked', html)
    assert "Yellow" in html and "Blue" in html
    options = re.findall(r'<option value="(\d*)"', html)
    # Not itself, not its sub-code, not Cost (Stigma's sub-code would sit a fourth level deep).
    assert options == ["", str(codes["access"].pk), str(codes["support"].pk)]


def test_edit_saves_words_colour_and_place(client_for, reviewer, review, codes):
    stigma = codes["stigma"]
    response = client_for(reviewer).post(url("code_edit", review, stigma.pk), {
        "name": "Stigma and shame", "description": "Being judged.",
        "inclusion_notes": "Felt or feared", "exclusion_notes": "Cost",
        "colour": "#ddd6fe", "parent": codes["support"].pk,
    })  # fmt: skip
    assert response["Location"] == f"{url('codebook', review)}#code-{stigma.pk}"
    assert texts(response) == ["Saved “Stigma and shame”."]
    stigma.refresh_from_db()
    assert (stigma.name, stigma.description, stigma.inclusion_notes, stigma.exclusion_notes,
            stigma.colour, stigma.parent_id) == (
        "Stigma and shame", "Being judged.", "Felt or feared", "Cost", "#ddd6fe",
        codes["support"].pk,
    )  # fmt: skip
    # Its sub-code came with it, and Access's remaining code was renumbered.
    assert tree_of(review) == [
        ("Access", None, 0), ("Cost", "Access", 0), ("Support", None, 1),
        ("Stigma and shame", "Support", 0), ("Self-stigma", "Stigma and shame", 0),
    ]  # fmt: skip


def test_edit_to_a_theme_and_a_refused_parent(client_for, lead, review, codes):
    client = client_for(lead)
    stigma = codes["stigma"]
    data = {"name": "Stigma", "colour": "#fde68a", "parent": codes["self_stigma"].pk}
    response = client.post(url("code_edit", review, stigma.pk), data)
    assert response.status_code == 400
    assert "Select a valid choice" in page_text(response)
    assert Code.objects.get(pk=stigma.pk).parent_id == codes["access"].pk

    response = client.post(url("code_edit", review, stigma.pk), data | {"parent": ""})
    assert response.status_code == 302
    stigma.refresh_from_db()
    assert (stigma.parent_id, stigma.position) == (None, 2)


def test_edit_keeps_an_imported_colour_that_is_not_in_the_palette(client_for, lead, review, codes):
    Code.objects.filter(pk=codes["support"].pk).update(colour="#f00082")
    client = client_for(lead)
    html = client.get(url("code_edit", review, codes["support"].pk)).content.decode()
    assert "Its current colour (#f00082)" in html
    response = client.post(
        url("code_edit", review, codes["support"].pk),
        {"name": "Support", "colour": "#f00082"},
    )
    assert response.status_code == 302
    assert Code.objects.get(pk=codes["support"].pk).colour == "#f00082"


def test_edit_refuses_a_colour_outside_the_choices(client_for, lead, review, codes):
    response = client_for(lead).post(
        url("code_edit", review, codes["support"].pk), {"name": "Support", "colour": "red"}
    )
    assert response.status_code == 400
    assert Code.objects.get(pk=codes["support"].pk).colour == codes["support"].colour


# ----------------------------------------------------------------------------------- merging


@pytest.fixture
def shame(review, lead, codes, excerpt_on):
    """Shame (under Access) on two excerpts, one of which also carries Stigma; a memo."""
    shame = create_code(review=review, user=lead, name="Shame", parent=codes["access"])
    create_code(review=review, user=lead, name="Blame", parent=shame)
    excerpt_on(shame, start=0, end=10)
    excerpt_on(shame, codes["stigma"], start=20, end=30)
    Memo.objects.create(review=review, code=shame, author=lead, text="Close to stigma.")
    return shame


def test_merge_page_lists_the_other_codes_indented(client_for, reviewer, review, codes, shame):
    html = client_for(reviewer).get(url("code_merge", review, shame.pk)).content.decode()
    options = re.findall(r'<option value="(\d*)"[^>]*>([^<]*)</option>', html)
    assert options == [
        ("", "Choose a code"),
        (str(codes["access"].pk), "Access"),
        (str(codes["stigma"].pk), "\xa0" * 4 + "Stigma"),
        (str(codes["self_stigma"].pk), "\xa0" * 8 + "Self-stigma"),
        (str(codes["cost"].pk), "\xa0" * 4 + "Cost"),
        (str(codes["support"].pk), "Support"),
    ]
    assert "Merge “Shame” into “" not in html  # no target chosen, so no merge button yet


def test_merge_confirmation_states_what_will_happen(client_for, lead, review, codes, shame):
    response = client_for(lead).get(
        url("code_merge", review, shame.pk) + f"?target={codes['stigma'].pk}"
    )
    text = page_text(response)
    assert "1 excerpt will carry “Stigma” instead of “Shame”." in text
    assert "1 excerpt already carries both; it will carry “Stigma” once." in text
    assert "1 sub-code of “Shame” will move under “Stigma”." in text
    assert "1 memo on “Shame” will move to “Stigma”." in text
    assert f'<input type="hidden" name="target" value="{codes["stigma"].pk}">' in (
        response.content.decode()
    )
    assert Code.objects.filter(pk=shame.pk).exists()


def test_merge_folds_the_code_into_the_target(client_for, reviewer, review, codes, shame):
    stigma = codes["stigma"]
    response = client_for(reviewer).post(
        url("code_merge", review, shame.pk), {"target": codes["support"].pk}
    )
    assert response["Location"] == f"{url('codebook', review)}#code-{codes['support'].pk}"
    assert texts(response) == [
        "Merged “Shame” into “Support”: 2 excerpts now carry “Support”; "
        "1 sub-code moved under it; 1 memo moved to it."
    ]
    assert not Code.objects.filter(pk=shame.pk).exists()
    assert [codes_of(e) for e in Excerpt.objects.order_by("start")] == [
        ["Support"], ["Stigma", "Support"],
    ]  # fmt: skip
    assert Code.objects.get(name="Blame").parent_id == codes["support"].pk
    assert Memo.objects.get().code_id == codes["support"].pk
    assert stigma.excerpts.count() == 1


def test_merge_with_an_excerpt_carrying_both_leaves_the_target_once(
    client_for, lead, review, codes, shame
):
    response = client_for(lead).post(
        url("code_merge", review, shame.pk), {"target": codes["stigma"].pk}
    )
    assert texts(response) == [
        "Merged “Shame” into “Stigma”: 1 excerpt now carries “Stigma”; 1 excerpt already "
        "carried it; 1 sub-code moved under it; 1 memo moved to it."
    ]
    assert [codes_of(e) for e in Excerpt.objects.order_by("start")] == [["Stigma"], ["Stigma"]]


def test_merge_that_would_nest_too_deep_is_refused_on_the_page(
    client_for, lead, review, codes, shame
):
    response = client_for(lead).post(
        url("code_merge", review, shame.pk), {"target": codes["self_stigma"].pk}
    )
    assert response.status_code == 400
    assert "would sit more than 3 levels deep" in page_text(response)
    assert Code.objects.filter(pk=shame.pk).exists()


def test_merge_into_itself_or_its_sub_code_is_not_offered(client_for, lead, review, codes, shame):
    client = client_for(lead)
    for target in (shame, Code.objects.get(name="Blame")):
        response = client.post(url("code_merge", review, shame.pk), {"target": target.pk})
        assert response.status_code == 400
        assert "Select a valid choice" in page_text(response)
    assert Code.objects.filter(pk=shame.pk).exists()


# ---------------------------------------------------------------------------------- deleting


@pytest.fixture
def coded(review, lead, codes, excerpt_on):
    """Stigma on an excerpt of its own, Self-stigma on another, Stigma with Support on a
    third; one memo on Self-stigma."""
    Memo.objects.create(review=review, code=codes["self_stigma"], author=lead, text="Rare.")
    return {
        "alone": excerpt_on(codes["stigma"], start=0, end=10),
        "sub_alone": excerpt_on(codes["self_stigma"], start=20, end=30),
        "shared": excerpt_on(codes["stigma"], codes["support"], start=40, end=50),
    }


def test_delete_page_states_the_impact_in_plain_words(client_for, reviewer, review, codes, coded):
    response = client_for(reviewer).get(url("code_delete", review, codes["stigma"].pk))
    text = page_text(response)
    assert "“Stigma” and its 1 sub-code will be removed from the codebook." in text
    assert "3 excerpts carry these codes and will lose them." in text
    assert "2 of those excerpts have no other code and will be deleted." in text
    assert "1 excerpt keeps its other codes." in text
    assert "1 memo on these codes will be deleted." in text
    html = response.content.decode()
    for name, value in (("codes", 2), ("excerpts", 3), ("orphaned", 2), ("memos", 1)):
        assert f'<input type="hidden" name="{name}" value="{value}"' in html


def test_delete_removes_what_the_page_said(client_for, reviewer, review, codes, coded):
    stigma = codes["stigma"]
    response = client_for(reviewer).post(
        url("code_delete", review, stigma.pk),
        {"codes": 2, "excerpts": 3, "orphaned": 2, "memos": 1},
    )
    assert response["Location"] == f"{url('codebook', review)}#code-{codes['access'].pk}"
    assert texts(response) == [
        "Deleted “Stigma” and its 1 sub-code. 3 excerpts lost it; "
        "2 excerpts with no other code were deleted. 1 memo deleted."
    ]
    assert not Code.objects.filter(name__in=["Stigma", "Self-stigma"]).exists()
    assert list(Excerpt.objects.values_list("pk", flat=True)) == [coded["shared"].pk]
    assert codes_of(coded["shared"]) == ["Support"]
    assert Memo.objects.count() == 0
    assert tree_of(review) == [("Access", None, 0), ("Cost", "Access", 0), ("Support", None, 1)]


def test_delete_a_theme_returns_to_the_top(client_for, lead, review, codes):
    support = codes["support"]
    response = client_for(lead).post(
        url("code_delete", review, support.pk), vars(delete_impact(support))
    )
    assert response["Location"] == url("codebook", review)
    assert texts(response) == ["Deleted “Support”."]
    assert not Code.objects.filter(pk=support.pk).exists()


def test_delete_with_stale_figures_shows_the_new_ones_and_deletes_nothing(
    client_for, lead, reviewer, review, codes, coded, excerpt_on
):
    seen = {"codes": 2, "excerpts": 3, "orphaned": 2, "memos": 1}
    # A reviewer codes another passage while the lead reads the confirmation page.
    excerpt_on(codes["self_stigma"], start=60, end=70, coder=reviewer)
    response = client_for(lead).post(url("code_delete", review, codes["stigma"].pk), seen)
    assert response.status_code == 409
    text = page_text(response)
    assert "The code's use changed while you were confirming; check the new figures." in text
    assert "4 excerpts carry these codes" in text
    assert "3 of those excerpts have no other code" in text
    assert '<input type="hidden" name="excerpts" value="4"' in response.content.decode()
    assert Code.objects.filter(review=review).count() == 5
    assert Excerpt.objects.count() == 4


def test_delete_without_the_figures_is_refused(client_for, lead, review, codes):
    response = client_for(lead).post(url("code_delete", review, codes["cost"].pk), {})
    assert response.status_code == 400
    assert "Confirm the deletion with the button on this page." in page_text(response)
    assert Code.objects.filter(pk=codes["cost"].pk).exists()


# -------------------------------------------------------------------------- export, import


def test_export_downloads_the_codebook(client_for, reviewer, review, codes):
    response = client_for(reviewer).get(url("codebook_export", review))
    assert response["Content-Type"] == "application/xml"
    assert response["Content-Disposition"] == 'attachment; filename="harm-codebook.qdc"'
    body = response.content.decode()
    assert body.startswith("<?xml")
    assert 'name="Self-stigma"' in body
    assert url("codebook_export", review).endswith("/codebook/export.qdc")


def test_import_page_offers_the_refi_formats(client_for, lead, review):
    html = client_for(lead).get(url("codebook_import", review)).content.decode()
    assert 'enctype="multipart/form-data"' in html
    assert 'accept=".qdc,.qde,.qdpx"' in html
    assert "at most 20 MB" in html


def _upload(client, review, path_or_name, data=None):
    name = getattr(path_or_name, "name", path_or_name)
    content = data if data is not None else path_or_name.read_bytes()
    return client.post(
        url("codebook_import", review),
        {"file": SimpleUploadedFile(name, content, "application/octet-stream")},
    )


@needs_samples
def test_import_an_atlas_ti_codebook(client_for, reviewer, review, codes):
    response = _upload(client_for(reviewer), review, SAMPLES / "atlasti-win-23.4-codebook.qdc")
    assert response["Location"] == url("codebook", review)
    assert texts(response) == ["Imported 1 code (0 updated)."]
    code = Code.objects.get(name="code1")
    assert (code.parent_id, code.position, code.colour, code.created_by) == (
        None, 2, "#46aa00", reviewer,
    )  # fmt: skip


@needs_samples
@pytest.mark.parametrize("sample", ["atlasti-8.4-standard-project.qde", "skyloom-TestProject.qdpx"])
def test_import_the_codebook_of_a_project(client_for, lead, review, sample):
    response = _upload(client_for(lead), review, SAMPLES / sample)
    assert texts(response) == ["Imported 14 codes (0 updated)."]
    assert Code.objects.filter(review=review, parent=None).count() == 14
    assert Code.objects.get(review=review, name="Breakfast food").colour == "#46aa00"
    # The same file again changes nothing.
    response = _upload(client_for(lead), review, SAMPLES / sample)
    assert texts(response) == ["Imported 0 codes (0 updated). 14 codes were already up to date."]
    assert Code.objects.filter(review=review).count() == 14


@needs_samples
def test_import_shows_why_an_invalid_file_is_refused(client_for, lead, review, codes):
    response = _upload(client_for(lead), review, SAMPLES / "taguette-1.5-codebook.INVALID.qdc")
    assert response.status_code == 400
    text = page_text(response)
    assert "There is a problem" in text
    assert "the codebook has an empty &lt;Sets/&gt; element" in response.content.decode()
    assert "Delete the &lt;Sets/&gt; element and upload the file again." in (
        response.content.decode()
    )
    assert Code.objects.filter(review=review).count() == 5


def test_import_refuses_other_kinds_of_file(client_for, lead, review):
    response = _upload(client_for(lead), review, "codes.csv", b"name\nStigma\n")
    assert response.status_code == 400
    assert "“codes.csv” is not a .qdc, .qde or .qdpx file." in page_text(response)
    response = _upload(client_for(lead), review, "codes.qdc", b"not xml at all")
    assert response.status_code == 400
    assert "codes.qdc: this is not well-formed XML" in page_text(response)
    assert not Code.objects.filter(review=review).exists()


def test_import_refuses_a_file_over_the_size_limit(client_for, lead, review, monkeypatch):
    from coding.views import codebook as views

    monkeypatch.setattr(views, "IMPORT_MAX_UPLOAD_MB", 0)
    response = _upload(client_for(lead), review, "big.qdc", b"<x/>" * 10)
    assert response.status_code == 400
    assert "The file is larger than the 0 MB limit." in page_text(response)
    # A body over the limit is refused before it is read.
    response = _upload(client_for(lead), review, "big.qdc", b"<x/>" * 20_000)
    assert response.status_code == 413
    assert "The file is larger than the 0 MB limit." in page_text(response)
    assert not Code.objects.filter(review=review).exists()


def test_export_then_import_round_trip_through_the_views(client_for, lead, review, codes):
    stigma = codes["stigma"]
    Code.objects.filter(pk=stigma.pk).update(
        description="Being judged.", inclusion_notes="Felt or feared", exclusion_notes="Cost",
        colour="#ddd6fe",
    )  # fmt: skip
    client = client_for(lead)
    exported = client.get(url("codebook_export", review)).content

    other = ReviewFactory(slug="other")
    MembershipFactory(review=other, user=lead, role=Role.LEAD)
    response = _upload(client, other, "harm-codebook.qdc", exported)
    assert texts(response) == ["Imported 5 codes (0 updated)."]

    def shape(of):
        return sorted(
            (c.name, c.parent.guid if c.parent else None, c.position, c.guid, c.colour,
             c.description, c.inclusion_notes, c.exclusion_notes)
            for c in Code.objects.filter(review=of).select_related("parent")
        )  # fmt: skip

    assert shape(other) == shape(review)

    # Back into the first review after a rename there: only the renamed code changes.
    Code.objects.filter(pk=stigma.pk).update(name="Stigma and shame")
    response = _upload(client, review, "harm-codebook.qdc", exported)
    assert texts(response) == ["Imported 1 code (1 updated). 4 codes were already up to date."]
    assert Code.objects.get(pk=stigma.pk).name == "Stigma"
