"""The document view, where coding happens, and the excerpt actions it sends.

The page works without JavaScript: a coder can code a passage by quoting it (the "find the
passage" field, which also suits screen readers). coding.js adds selecting with mouse or
keyboard, shortcuts, and sends the same forms with fetch (X-Requested-With: fetch); the
views then answer with the document panel fragment, which replaces the old one.
"""

from types import SimpleNamespace

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from reviewapp.access import posted
from reviewapp.models import User

from .. import layer
from ..access import coder_filter, get_coding_review, get_document_for, sees_all_coding
from ..codebook import flatten, tree
from ..documents import DocumentError, revise_document
from ..excerpts import ExcerptError, create_excerpt, delete_excerpt, update_excerpt
from ..models import Code, DocumentVersion, Excerpt, ExcerptCode, Memo
from ..offsets import utf16_to_code_points

SHORTCUT_KEYS = "123456789"


def is_fetch(request):
    return request.headers.get("X-Requested-With") == "fetch"


def _version(document, number=None):
    versions = document.versions.order_by("-number")
    if number:
        return get_object_or_404(versions, number=number)
    return versions.first()


def _excerpts(version, coder):
    """The version's excerpts (one coder's, or all) as light rows with `code_ids` and
    `coder_name`, from three small queries: model instances cost a third of the page's time
    on a document with 2,000 excerpts."""
    excerpts = Excerpt.objects.filter(version=version)
    if coder is not None:
        excerpts = excerpts.filter(coder=coder)
    rows = [
        SimpleNamespace(pk=pk, start=start, end=end, coder_id=coder_id, code_ids=[])
        for pk, start, end, coder_id in excerpts.values_list("pk", "start", "end", "coder_id")
    ]
    by_id = {row.pk: row for row in rows}
    links = ExcerptCode.objects.filter(excerpt__version=version)
    if coder is not None:
        links = links.filter(excerpt__coder=coder)
    for excerpt_id, code_id in links.order_by("code_id").values_list("excerpt_id", "code_id"):
        if excerpt_id in by_id:
            by_id[excerpt_id].code_ids.append(code_id)
    names = {
        user.pk: user.display_name
        for user in User.objects.filter(pk__in={row.coder_id for row in rows}).only("email", "name")
    }
    for row in rows:
        row.coder_name = names.get(row.coder_id, "?")
    return rows


def _context(request, review, membership, config, document, version, form=None):
    coder = coder_filter(request, membership, config)
    nodes = list(flatten(tree(review, counts=False)))
    names = {node.code.pk: node.code.name for node in nodes}
    excerpts = _excerpts(version, coder)
    spans = layer.spans_from(excerpts, names, request.user)
    for node, key in zip(nodes, SHORTCUT_KEYS, strict=False):
        node.shortcut = key
    latest = document.versions.order_by("-number").values_list("number", flat=True).first()
    return {
        "review": review,
        "membership": membership,
        "sees_all": sees_all_coding(membership, config),
        "mine_only": coder is not None,
        "document": document,
        "version": version,
        "is_latest": version.number == latest,
        "versions": document.versions.order_by("number").only(
            "number", "created_at", "note", "length", "document_id"
        ),
        "layer": layer.render(version.text, spans),
        "spans": spans,
        "excerpt_list": layer.render_list(
            spans,
            edit_url=reverse("excerpt_edit", args=[review.slug, 0]),
            span_url=reverse("excerpt_span", args=[review.slug, 0]),
            delete_url=reverse("excerpt_delete", args=[review.slug, 0]),
            csrf_token=get_token(request),
        ),
        "nodes": nodes,
        "form": form or ExcerptForm(),
        "memos": Memo.objects.filter(document=document).select_related("author"),
    }


class ExcerptForm(forms.Form):
    """Either a span (start, end; in UTF-16 units when sent by the page script) or a quote
    to find in the text."""

    start = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
    end = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
    unit = forms.ChoiceField(
        choices=[("utf16", "utf16"), ("codepoint", "codepoint")],
        required=False,
        widget=forms.HiddenInput,
    )
    quote = forms.CharField(
        label="Or find the passage by quoting it",
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Type or paste the exact words; the first place they appear is coded.",
    )
    memo = forms.CharField(
        label="Memo (optional)", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def span(self, text):
        """(start, end) in code points, or raise ExcerptError."""
        data = self.cleaned_data
        if data.get("start") is not None and data.get("end") is not None:
            start, end = data["start"], data["end"]
            if data.get("unit") != "codepoint":
                try:
                    start = utf16_to_code_points(text, start)
                    end = utf16_to_code_points(text, end)
                except ValueError as exc:
                    raise ExcerptError("The selection is outside the document's text.") from exc
            return start, end
        quote = (data.get("quote") or "").strip()
        if quote:
            found = text.find(quote)
            if found < 0:
                # Line breaks and runs of spaces in a quote rarely match the text's exactly.
                raise ExcerptError("That passage was not found in the text. Check the wording.")
            return found, found + len(quote)
        raise ExcerptError("Select a passage first, or quote it.")


def _code_ids(request):
    try:
        return [int(v) for v in request.POST.getlist("codes")]
    except ValueError as exc:
        raise ExcerptError("Choose the codes from the list.") from exc


def _answer(request, context, status=200):
    if is_fetch(request):
        return render(request, "coding/document_panel.html", context, status=status)
    return render(request, "coding/document.html", context, status=status)


@require_GET
def document(request, slug, document_id):
    review, membership, config = get_coding_review(request, slug)
    doc = get_document_for(review, document_id)
    number = request.GET.get("version")
    version = _version(doc, int(number) if number and number.isdigit() else None)
    return render(
        request, "coding/document.html", _context(request, review, membership, config, doc, version)
    )


@require_POST
def excerpt_create(request, slug, document_id):
    review, membership, config = get_coding_review(request, slug)
    doc = get_document_for(review, document_id)
    version = get_object_or_404(DocumentVersion, document=doc, pk=request.POST.get("version", 0))
    form = ExcerptForm(request.POST)
    status = 200
    if form.is_valid():
        try:
            start, end = form.span(version.text)
            excerpt = create_excerpt(
                version=version,
                coder=request.user,
                start=start,
                end=end,
                code_ids=_code_ids(request),
                memo=form.cleaned_data["memo"],
            )
        except ExcerptError as exc:
            form.add_error(None, str(exc))
            status = 400
        else:
            names = ", ".join(excerpt.codes.order_by("name").values_list("name", flat=True))
            messages.success(request, f"Coded “{_short(excerpt.text)}” as {names}.")
            if not is_fetch(request):
                return redirect(_document_url(review, doc, version) + f"#excerpt-{excerpt.pk}")
            form = None
    else:
        status = 400
    context = _context(request, review, membership, config, doc, version, form=form)
    return _answer(request, context, status=status)


def _short(text, limit=60):
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _document_url(review, doc, version):
    url = reverse("document", args=[review.slug, doc.pk])
    latest = doc.versions.order_by("-number").values_list("pk", flat=True).first()
    return url if version.pk == latest else f"{url}?version={version.number}"


class ExcerptEditForm(forms.Form):
    start = forms.IntegerField(label="Starts at character", min_value=0)
    end = forms.IntegerField(label="Ends before character", min_value=1)
    codes = forms.MultipleChoiceField(label="Codes", widget=forms.CheckboxSelectMultiple)
    memo = forms.CharField(label="Memo", required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, nodes, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["codes"].choices = [
            (str(n.code.pk), f"{'— ' * n.depth}{n.code.name}") for n in nodes
        ]


def _get_excerpt(review, excerpt_id, request, membership, config):
    excerpts = Excerpt.objects.select_related("version", "document", "coder")
    coder = coder_filter(request, membership, config)
    if coder is not None:
        excerpts = excerpts.filter(coder=coder)
    return get_object_or_404(excerpts, pk=excerpt_id, review=review)


@require_http_methods(["GET", "POST"])
def excerpt_edit(request, slug, excerpt_id):
    review, membership, config = get_coding_review(request, slug)
    excerpt = _get_excerpt(review, excerpt_id, request, membership, config)
    nodes = list(flatten(tree(review, counts=False)))
    initial = {
        "start": excerpt.start,
        "end": excerpt.end,
        "codes": [str(pk) for pk in excerpt.applied.values_list("code_id", flat=True)],
        "memo": excerpt.memo,
    }
    form = ExcerptEditForm(posted(request), initial=initial, nodes=nodes)
    mine = excerpt.coder_id == request.user.pk
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                update_excerpt(
                    excerpt=excerpt,
                    user=request.user,
                    start=form.cleaned_data["start"],
                    end=form.cleaned_data["end"],
                    code_ids=[int(pk) for pk in form.cleaned_data["codes"]],
                    memo=form.cleaned_data["memo"],
                )
            except ExcerptError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, "The excerpt is saved.")
                url = _document_url(review, excerpt.document, excerpt.version)
                return redirect(f"{url}#excerpt-{excerpt.pk}")
        status = 400
    return render(
        request,
        "coding/excerpt_edit.html",
        {
            "review": review,
            "membership": membership,
            "sees_all": sees_all_coding(membership, config),
            "excerpt": excerpt,
            "mine": mine,
            "form": form,
            "document_url": _document_url(review, excerpt.document, excerpt.version),
        },
        status=status if mine or request.method == "GET" else 403,
    )


@require_POST
def excerpt_span(request, slug, excerpt_id):
    """Replace an excerpt's span with the page's current selection (UTF-16 offsets)."""
    review, membership, config = get_coding_review(request, slug)
    excerpt = _get_excerpt(review, excerpt_id, request, membership, config)
    form = ExcerptForm(request.POST)
    status = 200
    if form.is_valid():
        try:
            start, end = form.span(excerpt.version.text)
            update_excerpt(excerpt=excerpt, user=request.user, start=start, end=end)
        except ExcerptError as exc:
            form.add_error(None, str(exc))
            status = 400
        else:
            messages.success(request, f"Excerpt {excerpt.pk} now covers the selection.")
            form = None
    else:
        status = 400
    if not is_fetch(request) and status == 200:
        url = _document_url(review, excerpt.document, excerpt.version)
        return redirect(f"{url}#excerpt-{excerpt.pk}")
    context = _context(
        request, review, membership, config, excerpt.document, excerpt.version, form=form
    )
    return _answer(request, context, status=status)


@require_POST
def excerpt_delete(request, slug, excerpt_id):
    review, membership, config = get_coding_review(request, slug)
    excerpt = _get_excerpt(review, excerpt_id, request, membership, config)
    doc, version = excerpt.document, excerpt.version
    try:
        delete_excerpt(excerpt=excerpt, user=request.user)
    except ExcerptError as exc:
        messages.error(request, str(exc))
        status = 403
    else:
        messages.success(request, f"Deleted the excerpt “{_short(excerpt.text)}”.")
        status = 200
    if is_fetch(request):
        context = _context(request, review, membership, config, doc, version)
        return _answer(request, context, status=status)
    return redirect(_document_url(review, doc, version))


class ReviseForm(forms.Form):
    text = forms.CharField(label="Text", widget=forms.Textarea(attrs={"rows": 20}))
    note = forms.CharField(label="What changed and why", max_length=500)


@require_http_methods(["GET", "POST"])
def document_revise(request, slug, document_id):
    review, membership, config = get_coding_review(request, slug)
    doc = get_document_for(review, document_id)
    current = _version(doc)
    form = ReviseForm(posted(request), initial={"text": current.text})
    if request.method == "POST" and form.is_valid():
        try:
            version = revise_document(
                document=doc,
                text=form.cleaned_data["text"].replace("\r\n", "\n").replace("\r", "\n"),
                user=request.user,
                note=form.cleaned_data["note"],
            )
        except DocumentError as exc:
            form.add_error("text", str(exc))
        else:
            if version.pk == current.pk:
                messages.info(request, "The text is unchanged; no new version was made.")
            else:
                messages.success(
                    request,
                    f"Saved version {version.number}. Excerpts made on earlier versions stay "
                    "with the version they were made on.",
                )
            return redirect("document", review.slug, doc.pk)
    return render(
        request,
        "coding/document_revise.html",
        {
            "review": review,
            "membership": membership,
            "sees_all": sees_all_coding(membership, config),
            "document": doc,
            "current": current,
            "form": form,
        },
        status=400 if request.method == "POST" else 200,
    )


class MemoForm(forms.Form):
    text = forms.CharField(
        label="Memo", max_length=10_000, widget=forms.Textarea(attrs={"rows": 3})
    )


@require_POST
def document_memo(request, slug, document_id):
    review, membership, config = get_coding_review(request, slug)
    doc = get_document_for(review, document_id)
    form = MemoForm(request.POST)
    if form.is_valid() and form.cleaned_data["text"].strip():
        Memo.objects.create(
            review=review, document=doc, author=request.user, text=form.cleaned_data["text"]
        )
        messages.success(request, "Memo added.")
    else:
        messages.error(request, "A memo needs some text.")
    return redirect(reverse("document", args=[review.slug, doc.pk]) + "#memos")


@require_GET
def code_colours(request, slug):
    """A stylesheet giving each code its colour (the CSP allows no inline styles)."""
    review, _, _ = get_coding_review(request, slug)
    rules = [
        f".code-{pk}{{--code-colour:{colour}}}"
        for pk, colour in Code.objects.filter(review=review).values_list("pk", "colour")
        if layer_colour_ok(colour)
    ]
    response = HttpResponse("\n".join(rules), content_type="text/css; charset=utf-8")
    response["Cache-Control"] = "private, no-cache"
    return response


def layer_colour_ok(colour):
    return len(colour) == 7 and colour[0] == "#" and all(c in "0123456789abcdefABCDEF"
                                                        for c in colour[1:])  # fmt: skip


urlpatterns = [
    path("documents/<int:document_id>/", document, name="document"),
    path("documents/<int:document_id>/excerpts/", excerpt_create, name="excerpt_create"),
    path("documents/<int:document_id>/revise/", document_revise, name="document_revise"),
    path("documents/<int:document_id>/memo/", document_memo, name="document_memo"),
    path("excerpts/<int:excerpt_id>/", excerpt_edit, name="excerpt_edit"),
    path("excerpts/<int:excerpt_id>/span/", excerpt_span, name="excerpt_span"),
    path("excerpts/<int:excerpt_id>/delete/", excerpt_delete, name="excerpt_delete"),
    path("codes.css", code_colours, name="code_colours"),
]
