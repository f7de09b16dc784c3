"""The shared codebook: the tree of themes, codes and sub-codes, and every change to it.

Researchers (leads and reviewers) all edit the codebook, as a team shares one NVivo project;
Advisory Group members never reach these pages. Each change is a plain form posted by a
button, handled by one function of coding.codebook, and followed by a redirect back to the
changed code (`#code-<id>`), so a keyboard user keeps their place without any script.
"""

from dataclasses import asdict

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from reviewapp.access import posted

from .. import refi
from ..access import coder_filter, get_coding_review, sees_all_coding
from ..codebook import (
    MAX_DEPTH,
    CodebookError,
    DeleteImpact,
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
from ..models import PALETTE, Code, ExcerptCode, Memo
from ..revisions import recording

COLOUR_NAMES = dict(
    zip(
        PALETTE,
        ("Yellow", "Blue", "Green", "Red", "Violet", "Pink", "Cyan", "Orange", "Lime", "Grey"),
        strict=True,
    )
)
IMPORT_MAX_UPLOAD_MB = 20
IMPORT_EXTENSIONS = (".qdc", ".qde", ".qdpx")
# A select cannot indent its options with CSS; no-break spaces survive whitespace collapsing.
INDENT = "\xa0" * 4


def plural(n, word):
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _reason(request):
    """Why the change was made, as typed in the form (recorded in the theme's history)."""
    return request.POST.get("reason", "")[:2000]


def _code_url(review, code_id):
    return f"{reverse('codebook', args=[review.slug])}#code-{code_id}"


def _get_code(review, code_id):
    return get_object_or_404(Code.objects.select_related("parent"), pk=code_id, review=review)


def _height(node):
    """Levels in a Node's subtree, counting itself."""
    return 1 + max((_height(child) for child in node.children), default=0)


def _node_of(nodes, code):
    return next((node for node in flatten(nodes) if node.code.pk == code.pk), None)


def _subtree_ids(nodes, code):
    """The ids of `code` and its sub-codes, from an already built tree."""
    own = _node_of(nodes, code)
    return {node.code.pk for node in flatten([own])} if own else {code.pk}


def _choice_label(node):
    return INDENT * node.depth + node.code.name


# ------------------------------------------------------------------------------ forms


class CodeForm(forms.Form):
    """A code's words, colour and place in the tree. The parent choices are the codes it may
    sit under; move_code still has the last word."""

    name = forms.CharField(max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    inclusion_notes = forms.CharField(
        label="When to use",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The kind of passage this code is for.",
    )
    exclusion_notes = forms.CharField(
        label="When not to use",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Passages that look alike but belong elsewhere.",
    )
    colour = forms.ChoiceField(widget=forms.RadioSelect, required=False)
    parent = forms.TypedChoiceField(
        label="Place in the codebook", coerce=int, empty_value=None, required=False
    )

    def __init__(self, *args, nodes, code=None, **kwargs):
        super().__init__(*args, **kwargs)
        colours = list(COLOUR_NAMES.items())
        if code is None:
            colours.insert(0, ("", "Automatic: the parent's colour, or the next for a theme"))
        else:
            self.fields["colour"].required = True
            if code.colour not in COLOUR_NAMES:
                # Imported codes may carry any colour; keeping it must stay possible.
                colours.insert(0, (code.colour, f"Its current colour ({code.colour})"))
        self.fields["colour"].choices = colours
        self.fields["parent"].choices = [("", "None: a theme")] + self._parents(nodes, code)

    @staticmethod
    def _parents(nodes, code):
        if code is None:
            return [
                (node.code.pk, _choice_label(node))
                for node in flatten(nodes)
                if node.depth + 1 < MAX_DEPTH
            ]
        own = _node_of(nodes, code)
        height = _height(own) if own else 1
        below = _subtree_ids(nodes, code)
        return [
            (node.code.pk, _choice_label(node))
            for node in flatten(nodes)
            if node.code.pk not in below and node.depth + 1 + height <= MAX_DEPTH
        ]

    def parent_code(self, review):
        parent_id = self.cleaned_data["parent"]
        return None if parent_id is None else Code.objects.get(pk=parent_id, review=review)


class MergeForm(forms.Form):
    target = forms.TypedChoiceField(label="Merge into", coerce=int)

    def __init__(self, *args, nodes, source, **kwargs):
        super().__init__(*args, **kwargs)
        own = _subtree_ids(nodes, source)
        self.fields["target"].choices = [("", "Choose a code")] + [
            (node.code.pk, _choice_label(node))
            for node in flatten(nodes)
            if node.code.pk not in own
        ]


class DeleteConfirmForm(forms.Form):
    """The figures the person saw; delete_code refuses if they no longer hold."""

    codes = forms.IntegerField(min_value=0, widget=forms.HiddenInput)
    excerpts = forms.IntegerField(min_value=0, widget=forms.HiddenInput)
    orphaned = forms.IntegerField(min_value=0, widget=forms.HiddenInput)
    memos = forms.IntegerField(min_value=0, widget=forms.HiddenInput)


class ImportForm(forms.Form):
    file = forms.FileField(
        label="Codebook file",
        help_text="A REFI-QDA codebook (.qdc) or project (.qde or .qdpx) from ATLAS.ti, NVivo, "
        f"MAXQDA, QualCoder or another tool; at most {IMPORT_MAX_UPLOAD_MB} MB.",
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(IMPORT_EXTENSIONS)}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(IMPORT_EXTENSIONS):
            raise forms.ValidationError(
                f"“{upload.name}” is not a .qdc, .qde or .qdpx file. Export the codebook or "
                "project from your QDA tool in the REFI-QDA format."
            )
        if upload.size > IMPORT_MAX_UPLOAD_MB * 1024 * 1024:
            raise forms.ValidationError(_too_large_message())
        return upload


def _too_large_message():
    return (
        f"The file is larger than the {IMPORT_MAX_UPLOAD_MB} MB limit. Export only the "
        "codebook (.qdc), which leaves the documents out."
    )


# ------------------------------------------------------------------------------ pages


def _context(review, membership, config, **extra):
    return {
        "review": review,
        "membership": membership,
        "sees_all": sees_all_coding(membership, config),
        **extra,
    }


class Row:
    """One code of the tree page: its Node plus what its buttons need to say."""

    def __init__(self, node, siblings, index, parent):
        self.node = node
        self.code = node.code
        self.children = []
        self.above = siblings[index - 1].code if index > 0 else None
        self.parent = parent
        self.first = index == 0
        self.last = index == len(siblings) - 1
        # Indenting puts it one level deeper, with its whole subtree.
        self.can_indent = self.above is not None and node.depth + _height(node) < MAX_DEPTH
        self.can_add_child = node.depth + 1 < MAX_DEPTH
        self.child_level = "sub-code" if node.depth + 1 == MAX_DEPTH - 1 else "code"


def _rows(nodes, parent=None):
    rows = []
    for index, node in enumerate(nodes):
        row = Row(node, nodes, index, parent)
        row.children = _rows(node.children, node.code)
        rows.append(row)
    return rows


@require_GET
def codebook(request, slug):
    review, membership, config = get_coding_review(request, slug)
    coder = coder_filter(request, membership, config)
    nodes = tree(review, counts=True, coder=coder)
    return render(
        request,
        "coding/codebook/codebook.html",
        _context(review, membership, config, rows=_rows(nodes), blind=coder is not None),
    )


@require_http_methods(["GET", "POST"])
def code_add(request, slug):
    review, membership, config = get_coding_review(request, slug)
    nodes = tree(review, counts=False)
    initial = {}
    if str(request.GET.get("parent", "")).isdigit():
        initial["parent"] = int(request.GET["parent"])
    # The "Add a theme" form of the codebook page posts only a name: the rest are optional.
    form = CodeForm(posted(request), nodes=nodes, initial=initial)
    if form.is_valid():
        data = form.cleaned_data
        try:
            with recording(review, request.user, _reason(request)):
                code = create_code(
                    review=review, user=request.user, name=data["name"],
                    parent=form.parent_code(review), description=data["description"],
                    inclusion_notes=data["inclusion_notes"],
                    exclusion_notes=data["exclusion_notes"], colour=data["colour"],
                )  # fmt: skip
        except CodebookError as exc:
            form.add_error(None, str(exc))
        else:
            where = f" under “{code.parent.name}”" if code.parent else " as a theme"
            messages.success(request, f"Added “{code.name}”{where}.")
            return redirect(_code_url(review, code.pk))
    parent = next((n.code for n in flatten(nodes) if n.code.pk == initial.get("parent")), None)
    return render(
        request,
        "coding/codebook/add.html",
        _context(review, membership, config, form=form, parent=parent),
        status=400 if form.is_bound else 200,
    )


DIRECTIONS = {"up", "down", "in", "out"}


@require_POST
def code_move(request, slug, code_id):
    review, membership, config = get_coding_review(request, slug)
    code = _get_code(review, code_id)
    direction = request.POST.get("direction")
    if direction not in DIRECTIONS:
        messages.error(request, "Use one of the move buttons.")
        return redirect(_code_url(review, code.pk))
    old_parent = code.parent
    try:
        with recording(review, request.user, _reason(request)):
            shift_code(code=code, direction=direction)
    except CodebookError as exc:
        messages.error(request, str(exc))
        return redirect(_code_url(review, code.pk))
    code.refresh_from_db()
    messages.success(request, _moved_message(code, direction, old_parent))
    return redirect(_code_url(review, code.pk))


def _moved_message(code, direction, old_parent):
    if direction in ("up", "down"):
        siblings = Code.objects.filter(review_id=code.review_id, parent_id=code.parent_id)
        return f"Moved “{code.name}” {direction}: now {code.position + 1} of {siblings.count()}."
    if direction == "in":
        return f"Moved “{code.name}” into “{code.parent.name}”."
    if code.parent is None:
        return f"Moved “{code.name}” out of “{old_parent.name}”: it is now a theme."
    return f"Moved “{code.name}” out of “{old_parent.name}”, into “{code.parent.name}”."


@require_http_methods(["GET", "POST"])
def code_edit(request, slug, code_id):
    review, membership, config = get_coding_review(request, slug)
    code = _get_code(review, code_id)
    nodes = tree(review, counts=False)
    initial = {
        "name": code.name,
        "description": code.description,
        "inclusion_notes": code.inclusion_notes,
        "exclusion_notes": code.exclusion_notes,
        "colour": code.colour,
        "parent": code.parent_id,
    }
    form = CodeForm(posted(request), nodes=nodes, code=code, initial=initial)
    if form.is_valid():
        data = form.cleaned_data
        try:
            # One transaction: a refused move must not leave the words half saved.
            with recording(review, request.user, _reason(request)):
                update_code(
                    code=code, name=data["name"], description=data["description"],
                    inclusion_notes=data["inclusion_notes"],
                    exclusion_notes=data["exclusion_notes"], colour=data["colour"],
                )  # fmt: skip
                if data["parent"] != code.parent_id:
                    move_code(code=code, parent=form.parent_code(review))
        except CodebookError as exc:
            form.add_error(None, str(exc))
            code.refresh_from_db()
        else:
            messages.success(request, f"Saved “{code.name}”.")
            return redirect(_code_url(review, code.pk))
    return render(
        request,
        "coding/codebook/edit.html",
        _context(review, membership, config, form=form, code=code),
        status=400 if form.is_bound else 200,
    )


def merge_preview(source, target):
    """What merge_codes(source, target) would do, in MergeSummary's terms."""
    have_target = ExcerptCode.objects.filter(code=target).values("excerpt_id")
    links = ExcerptCode.objects.filter(code=source)
    already = links.filter(excerpt_id__in=have_target).count()
    return {
        "moved": links.count() - already,
        "already": already,
        "children": source.children.count(),
        "memos": Memo.objects.filter(code=source).count(),
    }


@require_http_methods(["GET", "POST"])
def code_merge(request, slug, code_id):
    review, membership, config = get_coding_review(request, slug)
    source = _get_code(review, code_id)
    nodes = tree(review, counts=False)
    # Choosing the target is a GET (the page then states the figures); the merge is a POST.
    data = posted(request) or (request.GET if "target" in request.GET else None)
    form = MergeForm(data, nodes=nodes, source=source)
    target = preview = None
    status = 200
    if form.is_bound:
        if form.is_valid():
            target = Code.objects.get(pk=form.cleaned_data["target"], review=review)
            if request.method == "POST":
                try:
                    with recording(review, request.user, _reason(request)):
                        summary = merge_codes(source=source, target=target)
                except CodebookError as exc:
                    form.add_error("target", str(exc))
                else:
                    messages.success(request, _merged_message(source, target, summary))
                    return redirect(_code_url(review, target.pk))
            preview = merge_preview(source, target)
        if form.errors:
            status = 400
    return render(
        request,
        "coding/codebook/merge.html",
        _context(
            review, membership, config, form=form, code=source, target=target, preview=preview
        ),
        status=status,
    )


def _merged_message(source, target, summary):
    verb = "carries" if summary.moved == 1 else "carry"
    parts = [f"{plural(summary.moved, 'excerpt')} now {verb} “{target.name}”"]
    if summary.already:
        parts.append(f"{plural(summary.already, 'excerpt')} already carried it")
    if summary.children:
        parts.append(f"{plural(summary.children, 'sub-code')} moved under it")
    if summary.memos:
        parts.append(f"{plural(summary.memos, 'memo')} moved to it")
    return f"Merged “{source.name}” into “{target.name}”: {'; '.join(parts)}."


@require_http_methods(["GET", "POST"])
def code_delete(request, slug, code_id):
    review, membership, config = get_coding_review(request, slug)
    code = _get_code(review, code_id)
    problem = None
    status = 200
    if request.method == "POST":
        form = DeleteConfirmForm(request.POST)
        if not form.is_valid():
            problem = "Confirm the deletion with the button on this page."
            status = 400
        else:
            confirmed = DeleteImpact(**form.cleaned_data)
            name, parent_id = code.name, code.parent_id
            try:
                with recording(review, request.user, _reason(request)):
                    delete_code(code=code, confirm_impact=confirmed)
            except CodebookError as exc:
                problem = str(exc)
                status = 409
            else:
                messages.success(request, _deleted_message(name, confirmed))
                if parent_id is None:
                    return redirect("codebook", slug=review.slug)
                return redirect(_code_url(review, parent_id))
    impact = delete_impact(code)
    return render(
        request,
        "coding/codebook/delete.html",
        _context(
            review,
            membership,
            config,
            code=code,
            impact=impact,
            problem=problem,
            sub_codes=impact.codes - 1,
            kept=impact.excerpts - impact.orphaned,
            form=DeleteConfirmForm(initial=asdict(impact)),
        ),
        status=status,
    )


def _deleted_message(name, impact):
    message = f"Deleted “{name}”"
    if impact.codes > 1:
        message += f" and its {plural(impact.codes - 1, 'sub-code')}"
    message += "."
    if impact.excerpts:
        message += f" {plural(impact.excerpts, 'excerpt')} lost it"
        if impact.orphaned:
            message += (
                f"; {plural(impact.orphaned, 'excerpt')} with no other code "
                f"{'was' if impact.orphaned == 1 else 'were'} deleted"
            )
        message += "."
    if impact.memos:
        message += f" {plural(impact.memos, 'memo')} deleted."
    return message


@require_GET
def codebook_export(request, slug):
    review, _, _ = get_coding_review(request, slug)
    response = HttpResponse(refi.export_codebook(review), content_type="application/xml")
    response["Content-Disposition"] = content_disposition_header(
        True, refi.codebook_filename(review)
    )
    return response


@require_http_methods(["GET", "POST"])
def codebook_import(request, slug):
    review, membership, config = get_coding_review(request, slug)
    form = ImportForm()
    problem = None
    status = 200
    if request.method == "POST":
        # Refuse an oversized upload by its declared length, before it is parsed.
        if int(request.META.get("CONTENT_LENGTH") or 0) > IMPORT_MAX_UPLOAD_MB * 1048576 + 65536:
            problem = _too_large_message()
            status = 413
        else:
            form = ImportForm(request.POST, request.FILES)
            if form.is_valid():
                upload = form.cleaned_data["file"]
                try:
                    parsed = refi.parse_codebook(upload.read(), upload.name)
                    with recording(review, request.user, _reason(request)):
                        summary = refi.import_codebook(review, parsed, request.user)
                except refi.RefiError as exc:
                    form.add_error("file", exc.message)
                else:
                    messages.success(request, _imported_message(summary))
                    return redirect("codebook", slug=review.slug)
            status = 400
    return render(
        request,
        "coding/codebook/import.html",
        _context(review, membership, config, form=form, problem=problem),
        status=status,
    )


def _imported_message(summary):
    message = (
        f"Imported {plural(summary.created + summary.updated, 'code')} ({summary.updated} updated)."
    )
    if summary.skipped:
        message += (
            f" {plural(summary.skipped, 'code')} {'was' if summary.skipped == 1 else 'were'} "
            "already up to date."
        )
    return message


urlpatterns = [
    path("codebook/", codebook, name="codebook"),
    path("codebook/add/", code_add, name="code_add"),
    path("codebook/export.qdc", codebook_export, name="codebook_export"),
    path("codebook/import/", codebook_import, name="codebook_import"),
    path("codebook/<int:code_id>/move/", code_move, name="code_move"),
    path("codebook/<int:code_id>/edit/", code_edit, name="code_edit"),
    path("codebook/<int:code_id>/merge/", code_merge, name="code_merge"),
    path("codebook/<int:code_id>/delete/", code_delete, name="code_delete"),
]
