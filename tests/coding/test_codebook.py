"""The codebook's write operations (coding.codebook): create, move, merge, delete."""

import pytest

from coding.codebook import (
    MAX_DEPTH,
    CodebookError,
    DeleteImpact,
    MergeSummary,
    create_code,
    delete_code,
    delete_impact,
    flatten,
    merge_codes,
    move_code,
    shift_code,
    tree,
    update_code,
)
from coding.documents import add_document
from coding.excerpts import create_excerpt
from coding.models import PALETTE, Code, Excerpt, ExcerptCode, Memo
from screening.models import Study
from tests.factories import ReviewFactory

pytestmark = pytest.mark.django_db

TEXT = "Peer workers listened. Stigma kept people away. Waiting lists were long. " * 3


@pytest.fixture
def make(review, lead):
    def make_code(name, parent=None, **kwargs):
        return create_code(review=review, user=lead, name=name, parent=parent, **kwargs)

    return make_code


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


def layout(review):
    """(name, parent name, position) of every code, in tree order."""
    names = dict(Code.objects.filter(review=review).values_list("pk", "name"))
    return [
        (node.code.name, names.get(node.code.parent_id), node.code.position)
        for node in flatten(tree(review, counts=False))
    ]


def children_of(review, parent):
    parent_id = parent.pk if parent else None
    return list(
        Code.objects.filter(review=review, parent_id=parent_id)
        .order_by("position")
        .values_list("name", "position")
    )


def codes_of(excerpt):
    return sorted(ExcerptCode.objects.filter(excerpt=excerpt).values_list("code__name", flat=True))


# ---------------------------------------------------------------------------- create, edit


def test_create_numbers_siblings_and_gives_themes_palette_colours(review, make):
    access = make("Access")
    stigma = make("Stigma", parent=access)
    waiting = make("Waiting", parent=access)
    support = make("Support")
    assert children_of(review, None) == [("Access", 0), ("Support", 1)]
    assert children_of(review, access) == [("Stigma", 0), ("Waiting", 1)]
    assert (access.colour, support.colour) == (PALETTE[0], PALETTE[1])
    # A code takes its theme's colour unless told otherwise.
    assert stigma.colour == waiting.colour == PALETTE[0]


def test_create_cleans_the_name_and_refuses_a_blank_one_or_a_bad_colour(make):
    assert make("  Peer   support \n").name == "Peer support"
    with pytest.raises(CodebookError, match="needs a name"):
        make("   ")
    with pytest.raises(CodebookError, match="#fde68a"):
        make("Access", colour="yellow")


def test_create_refuses_a_fourth_level(review, make):
    theme = make("Access")
    code = make("Stigma", parent=theme)
    make("Self-stigma", parent=code)
    assert MAX_DEPTH == 3
    with pytest.raises(CodebookError, match="already a sub-code"):
        make("Too deep", parent=Code.objects.get(name="Self-stigma"))
    assert Code.objects.filter(review=review).count() == 3


def test_create_refuses_a_parent_from_another_review(review, lead, make):
    elsewhere = create_code(review=ReviewFactory(), user=lead, name="Elsewhere")
    with pytest.raises(CodebookError, match="not in this review"):
        make("Stigma", parent=elsewhere)


def test_update_changes_words_and_colour_but_keeps_the_colour_when_none_given(make):
    code = make("Stigma")
    update_code(
        code=code, name="Stigma ", description=" Being judged. ",
        inclusion_notes="Felt or feared", exclusion_notes="Cost", colour="#bfdbfe",
    )  # fmt: skip
    code.refresh_from_db()
    assert (code.name, code.description, code.inclusion_notes, code.exclusion_notes) == (
        "Stigma", "Being judged.", "Felt or feared", "Cost",
    )  # fmt: skip
    assert code.colour == "#bfdbfe"
    update_code(code=code, name="Stigma")
    code.refresh_from_db()
    assert (code.colour, code.description) == ("#bfdbfe", "")


def test_update_with_a_stale_copy_does_not_undo_a_move_made_meanwhile(review, make):
    make("First")
    second = make("Second")
    stale = Code.objects.get(pk=second.pk)
    shift_code(code=second, direction="up")
    update_code(code=stale, name="Second, renamed")
    assert children_of(review, None) == [("Second, renamed", 0), ("First", 1)]


# --------------------------------------------------------------------------------- moving


@pytest.fixture
def three_themes(make):
    return make("Access"), make("Support"), make("Outcomes")


def test_shift_up_and_down_swap_with_the_neighbour(review, three_themes):
    access, support, outcomes = three_themes
    shift_code(code=outcomes, direction="up")
    assert children_of(review, None) == [("Access", 0), ("Outcomes", 1), ("Support", 2)]
    shift_code(code=Code.objects.get(pk=access.pk), direction="down")
    assert children_of(review, None) == [("Outcomes", 0), ("Access", 1), ("Support", 2)]


def test_shift_refuses_past_either_end(three_themes):
    access, _, outcomes = three_themes
    with pytest.raises(CodebookError, match="“Access” is already first"):
        shift_code(code=access, direction="up")
    with pytest.raises(CodebookError, match="“Outcomes” is already last"):
        shift_code(code=outcomes, direction="down")
    with pytest.raises(CodebookError, match="Unknown direction"):
        shift_code(code=outcomes, direction="sideways")


def test_shift_in_makes_it_the_last_child_of_the_sibling_above(review, make, three_themes):
    access, support, outcomes = three_themes
    make("Stigma", parent=access)
    shift_code(code=support, direction="in")
    assert children_of(review, access) == [("Stigma", 0), ("Support", 1)]
    # Positions among the themes stay dense after one leaves.
    assert children_of(review, None) == [("Access", 0), ("Outcomes", 1)]


def test_shift_in_refuses_the_first_code_of_its_level(three_themes):
    with pytest.raises(CodebookError, match="no code above it"):
        shift_code(code=three_themes[0], direction="in")


def test_shift_out_puts_it_right_after_its_old_parent(review, make, three_themes):
    access, support, outcomes = three_themes
    stigma = make("Stigma", parent=access)
    make("Cost", parent=access)
    shift_code(code=stigma, direction="out")
    assert children_of(review, None) == [
        ("Access", 0), ("Stigma", 1), ("Support", 2), ("Outcomes", 3),
    ]  # fmt: skip
    assert children_of(review, access) == [("Cost", 0)]


def test_shift_out_of_a_code_makes_a_sub_code_a_code(review, make):
    access = make("Access")
    stigma = make("Stigma", parent=access)
    self_stigma = make("Self-stigma", parent=stigma)
    shift_code(code=self_stigma, direction="out")
    assert children_of(review, access) == [("Stigma", 0), ("Self-stigma", 1)]


def test_shift_out_refuses_a_theme(three_themes):
    with pytest.raises(CodebookError, match="already a theme"):
        shift_code(code=three_themes[1], direction="out")


def test_a_move_takes_the_sub_codes_along(review, make, three_themes):
    access, support, _ = three_themes
    stigma = make("Stigma", parent=support)
    make("Self-stigma", parent=stigma)
    move_code(code=stigma, parent=access)
    assert [n.code.name for n in tree(review, counts=False)[0].children] == ["Stigma"]
    assert [n.code.name for n in tree(review, counts=False)[0].children[0].children] == [
        "Self-stigma"
    ]


def test_moving_in_refuses_to_go_deeper_than_three_levels(review, make):
    access = make("Access")
    stigma = make("Stigma", parent=access)
    cost = make("Cost", parent=access)
    make("Fees", parent=cost)
    # Cost has a sub-code, so under Stigma it would reach a fourth level.
    with pytest.raises(CodebookError, match="more than 3 levels deep"):
        shift_code(code=cost, direction="in")
    with pytest.raises(CodebookError, match="more than 3 levels deep"):
        move_code(code=cost, parent=stigma)
    # A theme with codes under it cannot sink beneath a code either.
    support = make("Support")
    make("Peers", parent=support)
    with pytest.raises(CodebookError, match="more than 3 levels deep"):
        move_code(code=support, parent=stigma)
    assert Code.objects.get(pk=cost.pk).parent_id == access.pk
    assert Code.objects.get(pk=support.pk).parent_id is None


def test_moving_beneath_itself_or_its_sub_code_is_refused(review, make):
    access = make("Access")
    stigma = make("Stigma", parent=access)
    with pytest.raises(CodebookError, match="beneath itself"):
        move_code(code=access, parent=access)
    with pytest.raises(CodebookError, match="beneath itself"):
        move_code(code=access, parent=stigma)
    assert layout(review) == [("Access", None, 0), ("Stigma", "Access", 0)]


def test_move_to_a_position_among_new_siblings(review, make, three_themes):
    access, support, outcomes = three_themes
    make("Stigma", parent=access)
    make("Cost", parent=access)
    move_code(code=outcomes, parent=access, position=1)
    assert children_of(review, access) == [("Stigma", 0), ("Outcomes", 1), ("Cost", 2)]
    move_code(code=Code.objects.get(pk=outcomes.pk), parent=None, position=0)
    assert children_of(review, None) == [("Outcomes", 0), ("Access", 1), ("Support", 2)]
    assert children_of(review, access) == [("Stigma", 0), ("Cost", 1)]


# -------------------------------------------------------------------------------- merging


def test_merge_moves_excerpts_and_an_excerpt_with_both_ends_with_the_target_once(
    review, make, excerpt_on
):
    access = make("Access")
    stigma = make("Stigma", parent=access)
    shame = make("Shame", parent=access)
    only_shame = excerpt_on(shame, start=0, end=10)
    both = excerpt_on(shame, stigma, start=20, end=30)
    only_stigma = excerpt_on(stigma, start=40, end=50)

    summary = merge_codes(source=shame, target=stigma)

    assert summary == MergeSummary(moved=1, already=1, children=0, memos=0)
    assert not Code.objects.filter(pk=shame.pk).exists()
    assert codes_of(only_shame) == ["Stigma"]
    assert codes_of(both) == ["Stigma"]
    assert codes_of(only_stigma) == ["Stigma"]
    assert Excerpt.objects.count() == 3
    assert children_of(review, access) == [("Stigma", 0)]


def test_merge_moves_sub_codes_and_memos_to_the_target(review, lead, make):
    access, support = make("Access"), make("Support")
    make("Peers", parent=support)
    make("Stigma", parent=access)
    make("Cost", parent=access)
    Memo.objects.create(review=review, code=access, author=lead, text="Barriers, broadly.")

    summary = merge_codes(source=access, target=support)

    assert summary == MergeSummary(moved=0, already=0, children=2, memos=1)
    assert children_of(review, support) == [("Peers", 0), ("Stigma", 1), ("Cost", 2)]
    assert list(Memo.objects.values_list("code__name", "text")) == [
        ("Support", "Barriers, broadly.")
    ]
    assert children_of(review, None) == [("Support", 0)]


def test_merge_refuses_itself_its_own_sub_code_and_another_review(review, lead, make):
    access = make("Access")
    stigma = make("Stigma", parent=access)
    elsewhere = create_code(review=ReviewFactory(), user=lead, name="Elsewhere")
    with pytest.raises(CodebookError, match="different code"):
        merge_codes(source=access, target=access)
    with pytest.raises(CodebookError, match="its own sub-codes"):
        merge_codes(source=access, target=stigma)
    with pytest.raises(CodebookError, match="not in this review"):
        merge_codes(source=access, target=elsewhere)
    assert Code.objects.filter(review=review).count() == 2


def test_merge_refuses_when_sub_codes_would_sit_too_deep(review, make, excerpt_on):
    access, support = make("Access"), make("Support")
    stigma = make("Stigma", parent=access)
    make("Self-stigma", parent=stigma)
    peers = make("Peers", parent=support)
    kept = excerpt_on(access)
    with pytest.raises(CodebookError, match="Move them first"):
        merge_codes(source=access, target=peers)
    assert Code.objects.filter(pk=access.pk).exists()
    assert codes_of(kept) == ["Access"]


# ------------------------------------------------------------------------------- deleting


@pytest.fixture
def coded(review, lead, make, excerpt_on):
    """Access > Stigma > Self-stigma, and Support; excerpts with one or two codes; memos."""
    access, support = make("Access"), make("Support")
    stigma = make("Stigma", parent=access)
    self_stigma = make("Self-stigma", parent=stigma)
    Memo.objects.create(review=review, code=stigma, author=lead, text="Felt or enacted?")
    Memo.objects.create(review=review, code=self_stigma, author=lead, text="Rare.")
    Memo.objects.create(review=review, code=support, author=lead, text="Stays.")
    return {
        "access": access, "support": support, "stigma": stigma, "self_stigma": self_stigma,
        "stigma_only": excerpt_on(stigma, start=0, end=10),
        "self_stigma_only": excerpt_on(self_stigma, start=20, end=30),
        "both_levels": excerpt_on(stigma, self_stigma, start=40, end=50),
        "with_support": excerpt_on(stigma, support, start=60, end=70),
        "support_only": excerpt_on(support, start=80, end=90),
    }  # fmt: skip


def test_delete_impact_counts_the_subtree(coded):
    assert delete_impact(coded["stigma"]) == DeleteImpact(codes=2, excerpts=4, orphaned=3, memos=2)
    assert delete_impact(coded["support"]) == DeleteImpact(codes=1, excerpts=2, orphaned=1, memos=1)


def test_delete_removes_sub_codes_memos_and_excerpts_left_with_no_code(review, coded):
    impact = delete_impact(coded["stigma"])
    assert delete_code(code=coded["stigma"], confirm_impact=impact) == impact

    assert layout(review) == [("Access", None, 0), ("Support", None, 1)]
    remaining = set(Excerpt.objects.values_list("pk", flat=True))
    assert remaining == {coded["with_support"].pk, coded["support_only"].pk}
    # The excerpt that also carried Support keeps it, and only it.
    assert codes_of(coded["with_support"]) == ["Support"]
    assert list(Memo.objects.values_list("text", flat=True)) == ["Stays."]


def test_delete_of_a_theme_renumbers_the_themes_after_it(review, coded, make):
    make("Outcomes")
    delete_code(code=coded["access"], confirm_impact=delete_impact(coded["access"]))
    assert children_of(review, None) == [("Support", 0), ("Outcomes", 1)]
    assert not Code.objects.filter(name__in=["Stigma", "Self-stigma"]).exists()


def test_delete_refuses_when_the_impact_changed_since_it_was_confirmed(
    review, coded, excerpt_on, reviewer
):
    seen = delete_impact(coded["stigma"])
    # Someone codes another passage while the lead reads the confirmation page.
    excerpt_on(coded["self_stigma"], start=100, end=110, coder=reviewer)
    with pytest.raises(CodebookError, match="changed while you were confirming"):
        delete_code(code=coded["stigma"], confirm_impact=seen)
    assert Code.objects.filter(review=review).count() == 4
    assert Excerpt.objects.count() == 6
    assert Memo.objects.count() == 3


# ---------------------------------------------------------------------------------- tree


def test_tree_counts_own_and_subtree_excerpts_and_limits_them_to_one_coder(
    review, coded, excerpt_on, reviewer
):
    excerpt_on(coded["stigma"], start=100, end=110, coder=reviewer)
    access = tree(review)[0]
    stigma = access.children[0]
    assert (access.level_name, stigma.level_name, stigma.children[0].level_name) == (
        "Theme", "Code", "Sub-code",
    )  # fmt: skip
    # "both_levels" carries Stigma and Self-stigma: the totals count it once.
    assert (stigma.excerpt_count, stigma.total_count, access.total_count) == (4, 5, 5)
    mine = tree(review, coder=reviewer)[0].children[0]
    assert (mine.excerpt_count, mine.total_count) == (1, 1)
