"""The history of each theme: every change to its name, description, codes or grouping is
kept as a ThemeRevision with who, when and why, so the team (and the Advisory Group) can see
how the themes came to be, and which comments prompted which change.

Views that change the codebook run inside `recording(review, user, reason)`: it snapshots
every theme before and after, and records a revision for each theme that differs (a code
moved from one theme to another changes both).
"""

import difflib
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import transaction

from .models import Code, ThemeRevision

FIELD_LABELS = {
    "name": "Name",
    "description": "Description",
    "codes": "Codes",
    "plain_title": "Plain-language title",
    "plain_description": "Plain-language description",
}


def _themes(review):
    """{theme id: snapshot} for every theme of the review, from one query."""
    codes = list(Code.objects.filter(review=review).order_by("position", "id"))
    children = {}
    for code in codes:
        children.setdefault(code.parent_id, []).append(code)

    def paths(parent_id, prefix):
        for code in children.get(parent_id, ()):
            path = f"{prefix}{code.name}"
            yield path
            yield from paths(code.pk, f"{path} › ")

    return {
        theme.pk: {
            "name": theme.name,
            "description": theme.description,
            "codes": list(paths(theme.pk, "")),
        }
        for theme in children.get(None, ())
    }


def snapshot(theme):
    return _themes(theme.review).get(theme.pk, {})


@dataclass
class Recording:
    reason: str = ""
    revisions: list = field(default_factory=list)


@contextmanager
def recording(review, user, reason=""):
    """Record a revision for each theme the block changes. Set `.reason` on the yielded
    object to give the why after the fact; `.revisions` holds what was recorded."""
    result = Recording(reason=reason)
    with transaction.atomic():
        before = _themes(review)
        yield result
        after = _themes(review)
        names = {pk: snap["name"] for pk, snap in {**before, **after}.items()}
        existing = set(Code.objects.filter(pk__in=names).values_list("pk", flat=True))
        for pk in sorted(names):
            old, new = before.get(pk, {}), after.get(pk, {})
            if old != new:
                result.revisions.append(
                    ThemeRevision.objects.create(
                        review=review,
                        theme_id=pk if pk in existing else None,
                        theme_name=names[pk],
                        author=user,
                        reason=result.reason.strip(),
                        before=old,
                        after=new,
                    )
                )


def record_change(*, theme, user, reason, before, after):
    """A revision for a change made outside the codebook (the advisory pages' plain-language
    wording): `before`/`after` hold just the fields that changed."""
    if before == after:
        return None
    return ThemeRevision.objects.create(
        review_id=theme.review_id,
        theme=theme,
        theme_name=theme.name,
        author=user,
        reason=reason.strip(),
        before=before,
        after=after,
    )


@dataclass
class Change:
    label: str
    kind: str  # "text", "added" (whole theme), "removed" (whole theme), "list"
    old: str = ""
    new: str = ""
    added: list = field(default_factory=list)
    removed: list = field(default_factory=list)
    words: list = field(default_factory=list)  # [(tag, text)]: "same", "del", "ins"
    reordered: bool = False  # the same codes in a new order


def _word_diff(old, new):
    a, b = old.split(" "), new.split(" ")
    out = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag == "equal":
            out.append(("same", " ".join(a[i1:i2])))
            continue
        if i2 > i1:
            out.append(("del", " ".join(a[i1:i2])))
        if j2 > j1:
            out.append(("ins", " ".join(b[j1:j2])))
    return out


def changes(revision):
    """The revision as a readable list of Changes."""
    before, after = revision.before or {}, revision.after or {}
    if not before:
        return [Change(label="Theme", kind="added", new=after.get("name", ""))]
    if not after:
        return [Change(label="Theme", kind="removed", old=before.get("name", ""))]
    result = []
    for key in [k for k in FIELD_LABELS if k in before or k in after]:
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        label = FIELD_LABELS[key]
        if isinstance(old, list) or isinstance(new, list):
            old, new = old or [], new or []
            added = [c for c in new if c not in old]
            removed = [c for c in old if c not in new]
            result.append(
                Change(
                    label=label,
                    kind="list",
                    added=added,
                    removed=removed,
                    reordered=not added and not removed,
                )  # fmt: skip
            )
        else:
            old, new = old or "", new or ""
            result.append(
                Change(label=label, kind="text", old=old, new=new, words=_word_diff(old, new))
            )
    return result
