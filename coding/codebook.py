"""Every change to a review's codebook tree: create, edit, move, merge, delete.

The tree is theme -> code -> sub-code (MAX_DEPTH levels). Each operation runs in one
transaction; positions among siblings are kept dense (0, 1, 2, ...) so "up" and "down"
always swap with a real neighbour. Every reorganisation is a plain POST a button makes, so
nothing needs drag and drop.
"""

import re
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Max

from .models import PALETTE, Code, Excerpt, ExcerptCode, Memo

MAX_DEPTH = 3
LEVEL_NAMES = ("Theme", "Code", "Sub-code")
COLOUR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")


class CodebookError(ValueError):
    """A change that cannot be made; the message says why."""


@dataclass
class Node:
    code: Code
    depth: int
    children: list = field(default_factory=list)
    excerpt_count: int = 0  # excerpts carrying this code itself
    total_count: int = 0  # this code's and its descendants'

    @property
    def level_name(self):
        return LEVEL_NAMES[min(self.depth, len(LEVEL_NAMES) - 1)]


def tree(review, *, counts=True, coder=None):
    """The codebook as a list of root Nodes, in order, from one query (two with counts).
    `coder` limits the counts to one coder's excerpts (blind coding)."""
    codes = list(Code.objects.filter(review=review).order_by("position", "id"))
    by_parent = {}
    for code in codes:
        by_parent.setdefault(code.parent_id, []).append(code)
    carrying = {}  # code id -> ids of the excerpts that carry it
    if counts:
        applied = ExcerptCode.objects.filter(code__review=review)
        if coder is not None:
            applied = applied.filter(excerpt__coder=coder)
        for code_id, excerpt_id in applied.values_list("code_id", "excerpt_id").iterator(
            chunk_size=5000
        ):
            carrying.setdefault(code_id, set()).add(excerpt_id)

    def build(parent_id, depth):
        """(nodes, the excerpts under them): a total counts each excerpt once, though it
        may carry a code and its sub-code."""
        nodes, under_all = [], set()
        for code in by_parent.get(parent_id, ()):
            own = carrying.get(code.pk, set())
            node = Node(code=code, depth=depth, excerpt_count=len(own))
            node.children, under = build(code.pk, depth + 1)
            under = under | own
            node.total_count = len(under)
            nodes.append(node)
            under_all |= under
        return nodes, under_all

    return build(None, 0)[0]


def flatten(nodes):
    """Nodes depth first, in display order."""
    for node in nodes:
        yield node
        yield from flatten(node.children)


def depth_of(code):
    depth = 0
    while code.parent_id is not None:
        code = code.parent
        depth += 1
    return depth


def descendant_ids(code):
    """The ids of `code` and every code beneath it."""
    ids, frontier = {code.pk}, [code.pk]
    while frontier:
        frontier = list(Code.objects.filter(parent_id__in=frontier).values_list("pk", flat=True))
        ids.update(frontier)
    return ids


def _height(code):
    """Levels in the subtree under `code`, counting itself."""
    children = list(code.children.all())
    return 1 + max((_height(child) for child in children), default=0)


def _clean(name, description="", inclusion_notes="", exclusion_notes="", colour=""):
    name = " ".join((name or "").split())
    if not name:
        raise CodebookError("A code needs a name.")
    if len(name) > 200:
        raise CodebookError("A code's name can be at most 200 characters.")
    if colour and not COLOUR_RE.match(colour):
        raise CodebookError("A colour is written like #fde68a.")
    return name, description.strip(), inclusion_notes.strip(), exclusion_notes.strip(), colour


def _next_position(review, parent_id):
    top = Code.objects.filter(review=review, parent_id=parent_id).aggregate(n=Max("position"))
    return 0 if top["n"] is None else top["n"] + 1


def _renumber(review, parent_id):
    siblings = Code.objects.filter(review=review, parent_id=parent_id).order_by("position", "id")
    siblings = list(siblings)
    changed = []
    for index, sibling in enumerate(siblings):
        if sibling.position != index:
            sibling.position = index
            changed.append(sibling)
    Code.objects.bulk_update(changed, ["position"])
    return siblings


def _lock(review):
    # One codebook change at a time per review: positions and merges stay consistent.
    list(Code.objects.select_for_update().filter(review=review).values_list("pk", flat=True))


@transaction.atomic
def create_code(*, review, user, name, parent=None, description="", inclusion_notes="",
                exclusion_notes="", colour=""):  # fmt: skip
    _lock(review)
    name, description, inclusion_notes, exclusion_notes, colour = _clean(
        name, description, inclusion_notes, exclusion_notes, colour
    )
    if parent is not None:
        if parent.review_id != review.pk:
            raise CodebookError("That parent code is not in this review.")
        if depth_of(parent) + 1 >= MAX_DEPTH:
            raise CodebookError(
                f"Codes go {MAX_DEPTH} levels deep (theme, code, sub-code); "
                f"“{parent.name}” is already a sub-code."
            )
    if not colour:
        colour = parent.colour if parent is not None else _next_colour(review)
    return Code.objects.create(
        review=review,
        parent=parent,
        name=name,
        description=description,
        inclusion_notes=inclusion_notes,
        exclusion_notes=exclusion_notes,
        colour=colour,
        position=_next_position(review, parent.pk if parent else None),
        created_by=user,
    )


def _next_colour(review):
    used = Code.objects.filter(review=review, parent=None).count()
    return PALETTE[used % len(PALETTE)]


@transaction.atomic
def update_code(*, code, name, description="", inclusion_notes="", exclusion_notes="",
                colour=""):  # fmt: skip
    name, description, inclusion_notes, exclusion_notes, colour = _clean(
        name, description, inclusion_notes, exclusion_notes, colour
    )
    code.name, code.description = name, description
    code.inclusion_notes, code.exclusion_notes = inclusion_notes, exclusion_notes
    if colour:
        code.colour = colour
    # Only these fields: `code` may be a stale copy, and a full save would put back the
    # parent and position it had before someone moved it.
    code.save(update_fields=["name", "description", "inclusion_notes", "exclusion_notes", "colour"])
    return code


@transaction.atomic
def move_code(*, code, parent=None, position=None):
    """Make `code` a child of `parent` (None: a theme) at `position` among its new siblings
    (None: last). Its sub-codes come with it."""
    review = code.review
    _lock(review)
    code.refresh_from_db()
    if parent is not None:
        if parent.review_id != code.review_id:
            raise CodebookError("That code is not in this review.")
        if parent.pk in descendant_ids(code):
            raise CodebookError("A code cannot move beneath itself or one of its sub-codes.")
        if depth_of(parent) + 1 + _height(code) > MAX_DEPTH:
            raise CodebookError(
                f"That would make the tree more than {MAX_DEPTH} levels deep "
                "(theme, code, sub-code)."
            )
    old_parent_id = code.parent_id
    new_parent_id = parent.pk if parent is not None else None
    siblings = [c for c in _renumber(review, new_parent_id) if c.pk != code.pk]
    position = len(siblings) if position is None else max(0, min(position, len(siblings)))
    siblings.insert(position, code)
    code.parent_id = new_parent_id
    for index, sibling in enumerate(siblings):
        sibling.position = index
    Code.objects.bulk_update(siblings, ["parent", "position"])
    if old_parent_id != new_parent_id:
        _renumber(review, old_parent_id)
    return code


def _siblings(code):
    return list(
        Code.objects.filter(review_id=code.review_id, parent_id=code.parent_id).order_by(
            "position", "id"
        )
    )


def shift_code(*, code, direction):
    """Keyboard-friendly moves: "up"/"down" among siblings; "in" makes it a child of the
    sibling above; "out" makes it the sibling after its parent."""
    siblings = _siblings(code)
    index = next(i for i, c in enumerate(siblings) if c.pk == code.pk)
    if direction == "up":
        if index == 0:
            raise CodebookError(f"“{code.name}” is already first.")
        return move_code(code=code, parent=code.parent, position=index - 1)
    if direction == "down":
        if index == len(siblings) - 1:
            raise CodebookError(f"“{code.name}” is already last.")
        return move_code(code=code, parent=code.parent, position=index + 1)
    if direction == "in":
        if index == 0:
            raise CodebookError(f"“{code.name}” has no code above it at its level to move into.")
        return move_code(code=code, parent=siblings[index - 1])
    if direction == "out":
        if code.parent is None:
            raise CodebookError(f"“{code.name}” is already a theme.")
        parent = code.parent
        return move_code(code=code, parent=parent.parent, position=parent.position + 1)
    raise CodebookError("Unknown direction.")


@dataclass
class MergeSummary:
    moved: int  # excerpts that gained the target code
    already: int  # excerpts that carried both
    children: int
    memos: int


@transaction.atomic
def merge_codes(*, source, target):
    """Fold `source` into `target`: its excerpts carry `target` instead, its sub-codes and
    memos move under `target`, and `source` is removed. Nothing coded is lost."""
    if source.pk == target.pk:
        raise CodebookError("Choose a different code to merge into.")
    if source.review_id != target.review_id:
        raise CodebookError("That code is not in this review.")
    if target.pk in descendant_ids(source):
        raise CodebookError("A code cannot be merged into one of its own sub-codes.")
    review = source.review
    _lock(review)
    children = list(source.children.all())
    if children and depth_of(target) + max(_height(c) for c in children) + 1 > MAX_DEPTH:
        raise CodebookError(
            f"“{source.name}” has sub-codes that would sit more than {MAX_DEPTH} levels deep "
            f"under “{target.name}”. Move them first."
        )
    have_target = set(target.applied.values_list("excerpt_id", flat=True))
    source_links = list(source.applied.all())
    already = [link for link in source_links if link.excerpt_id in have_target]
    moving = [link for link in source_links if link.excerpt_id not in have_target]
    ExcerptCode.objects.filter(pk__in=[link.pk for link in already]).delete()
    ExcerptCode.objects.filter(pk__in=[link.pk for link in moving]).update(code=target)
    position = _next_position(review, target.pk)
    for offset, child in enumerate(sorted(children, key=lambda c: (c.position, c.pk))):
        child.parent = target
        child.position = position + offset
    Code.objects.bulk_update(children, ["parent", "position"])
    memos = Memo.objects.filter(code=source).update(code=target)
    parent_id = source.parent_id
    source.delete()
    _renumber(review, parent_id)
    return MergeSummary(
        moved=len(moving), already=len(already), children=len(children), memos=memos
    )


@dataclass
class DeleteImpact:
    codes: int  # the code and its sub-codes
    excerpts: int  # excerpts that carry any of them
    orphaned: int  # of those, excerpts left with no code (deleted too)
    memos: int


def _orphans(ids):
    """(excerpts carrying any of the codes `ids`, those of them carrying no other code)."""
    carrying = set(ExcerptCode.objects.filter(code_id__in=ids).values_list("excerpt_id", flat=True))
    others = set(
        ExcerptCode.objects.filter(excerpt_id__in=carrying)
        .exclude(code_id__in=ids)
        .values_list("excerpt_id", flat=True)
    )
    return carrying, carrying - others


def delete_impact(code):
    ids = descendant_ids(code)
    carrying, orphans = _orphans(ids)
    memos = Memo.objects.filter(code_id__in=ids).count()
    return DeleteImpact(codes=len(ids), excerpts=len(carrying), orphaned=len(orphans), memos=memos)


@transaction.atomic
def delete_code(*, code, confirm_impact):
    """Delete `code`, its sub-codes, their memos, and the excerpts left with no code.

    `confirm_impact` is the DeleteImpact the person confirmed: if the codebook changed since
    (someone coded more), nothing is deleted and CodebookError says so."""
    review = code.review
    _lock(review)
    impact = delete_impact(code)
    if impact != confirm_impact:
        raise CodebookError(
            "The code's use changed while you were confirming; check the new figures."
        )
    ids = descendant_ids(code)
    _, orphans = _orphans(ids)
    Excerpt.objects.filter(pk__in=orphans).delete()
    ExcerptCode.objects.filter(code_id__in=ids).delete()
    Memo.objects.filter(code_id__in=ids).delete()
    parent_id = code.parent_id
    # Deepest first: a parent is protected while it has children.
    for pk in sorted(ids, key=lambda pk: -_depth_by_id(pk)):
        Code.objects.filter(pk=pk).delete()
    _renumber(review, parent_id)
    return impact


def _depth_by_id(pk):
    return depth_of(Code.objects.get(pk=pk))
