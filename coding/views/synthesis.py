"""Synthesis across studies: a code's page with every excerpt under it, the themes × studies
matrix, code co-occurrence, inter-coder agreement, and the lead's switch that opens
comparison.

Every page counts and shows only the excerpts `coder_filter` allows: while comparison is
closed a reviewer sees only their own coding, and no figure here is computed from anyone
else's. Nothing here loads a DocumentVersion's text, which can run to 200,000 characters.
"""

from collections import Counter, defaultdict
from itertools import combinations, groupby
from operator import itemgetter
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Case, Count, Exists, F, IntegerField, OuterRef, Q, Value, When
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from reviewapp.access import is_lead
from reviewapp.models import Membership, Role, User
from screening.models import Study

from .. import agreement
from ..access import coder_filter, get_coding_review, sees_all_coding
from ..citations import citations_for
from ..codebook import flatten, tree
from ..excerpts import MEMO_MAX_LENGTH
from ..models import CodingConfig, Document, DocumentVersion, Excerpt, ExcerptCode, Memo

PAGE_SIZE = 50
# What the code's page loads of each excerpt: its document's title and study, and its coder.
EXCERPT_FIELDS = (
    "id", "start", "end", "text", "memo", "document_id", "coder_id",
    "document__id", "document__title", "document__study_id",
    "document__study__id", "document__study__label",
    "coder__id", "coder__name", "coder__email",
)  # fmt: skip


# --- shared --------------------------------------------------------------------------------


def _researchers(review):
    """The review's leads and reviewers, by name: the people who code."""
    memberships = (
        Membership.objects.filter(review=review, role__in=(Role.LEAD, Role.REVIEWER))
        .select_related("user")
        .only("user__id", "user__name", "user__email")
    )
    return sorted((m.user for m in memberships), key=lambda u: (u.display_name.lower(), u.pk))


def _studies_with_documents(review):
    return list(
        Study.objects.filter(review=review)
        .filter(Exists(Document.objects.filter(study=OuterRef("pk"))))
        .only("id", "label")
        .order_by("label", "id")
    )


def _querystring(request, keys):
    """The given filters of this request, to carry into pagination and other links."""
    return urlencode([(key, request.GET[key]) for key in keys if request.GET.get(key)])


class CoderForm(forms.Form):
    """The coder filter. Only offered to those who see everyone's coding: `coder_filter`
    already pins a blind coder to their own excerpts."""

    coder = forms.TypedChoiceField(label="Coder", required=False, coerce=int, empty_value=None)

    def __init__(self, *args, researchers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["coder"].choices = [("", "All coders")] + [
            (user.pk, user.display_name) for user in researchers
        ]


def _chosen_coder(request, membership, config, form):
    """The coder whose excerpts a page counts (None: everyone's): the blind coder themself,
    else the one picked in `form`, if any."""
    forced = coder_filter(request, membership, config)
    if forced is not None:
        return forced
    if form is not None and form.is_valid() and form.cleaned_data.get("coder") is not None:
        return User(pk=form.cleaned_data["coder"])
    return None


def _bound(request):
    # Unbound on a bare GET, so the form shows its defaults without errors.
    return request.GET if request.GET else None


# --- a code's page -------------------------------------------------------------------------


class CodeFilterForm(CoderForm):
    study = forms.TypedChoiceField(label="Study", required=False, coerce=int, empty_value=None)

    def __init__(self, *args, researchers, studies, sees_all, **kwargs):
        super().__init__(*args, researchers=researchers, **kwargs)
        self.fields["study"].choices = [("", "All studies")] + [(s.pk, s.label) for s in studies]
        if not sees_all:
            del self.fields["coder"]


class CodeMemoForm(forms.Form):
    text = forms.CharField(
        label="New memo",
        max_length=MEMO_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What this code is coming to mean, questions for the team, ideas to follow.",
    )


def _find_node(roots, code_id):
    """(the code's Node, its ancestors' codes from the theme down), or 404."""
    nodes = {node.code.pk: node for node in flatten(roots)}
    node = nodes.get(code_id)
    if node is None:
        raise Http404("No such code.")
    ancestors, parent_id = [], node.code.parent_id
    while parent_id is not None:
        ancestors.insert(0, nodes[parent_id].code)
        parent_id = nodes[parent_id].code.parent_id
    return node, ancestors


def _code_page(request, slug, code_id, memo_form=None, status=200):
    review, membership, config = get_coding_review(request, slug)
    roots = tree(review, counts=False)
    node, ancestors = _find_node(roots, code_id)
    sees_all = sees_all_coding(membership, config)
    filters = CodeFilterForm(
        _bound(request),
        researchers=_researchers(review) if sees_all else [],
        studies=_studies_with_documents(review),
        sees_all=sees_all,
    )
    coder = _chosen_coder(request, membership, config, filters)
    study_id = filters.cleaned_data.get("study") if filters.is_valid() else None

    excerpts = Excerpt.objects.filter(review=review)
    if coder is not None:
        excerpts = excerpts.filter(coder=coder)
    if study_id is not None:
        excerpts = excerpts.filter(document__study_id=study_id)
    subtree_ids = [n.code.pk for n in flatten([node])]
    under_code = excerpts.filter(
        Exists(ExcerptCode.objects.filter(excerpt=OuterRef("pk"), code_id__in=subtree_ids))
    )

    # Distinct excerpts under each sub-code (with its own sub-codes): one aggregate with a
    # column per sub-code, so an excerpt carrying a code and its sub-code counts once.
    children = []
    if node.children:
        applied = ExcerptCode.objects.filter(excerpt__in=excerpts.values("pk"))
        totals = applied.aggregate(
            **{
                f"c{child.code.pk}": Count(
                    "excerpt_id",
                    distinct=True,
                    filter=Q(code_id__in=[n.code.pk for n in flatten([child])]),
                )
                for child in node.children
            }
        )
        children = [(child, totals[f"c{child.code.pk}"]) for child in node.children]

    rows = (
        under_code.select_related("document", "document__study", "coder")
        .only(*EXCERPT_FIELDS)
        # The version's number for the link, never the version itself (its text is huge).
        .annotate(version_number=F("version__number"))
        .order_by(
            "document__study__label",
            "document__study_id",
            "document__title",
            "document_id",
            "start",
            "id",
        )
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    shown = list(page.object_list)
    names = {n.code.pk: n.code.name for n in flatten(roots)}
    carried = defaultdict(list)
    links = ExcerptCode.objects.filter(excerpt_id__in=[e.pk for e in shown])
    for excerpt_id, code_id in links.values_list("excerpt_id", "code_id"):
        carried[excerpt_id].append(code_id)
    order = {pk: index for index, pk in enumerate(names)}
    citations = citations_for({e.document.study_id for e in shown})
    for excerpt in shown:
        # In codebook order, as in the codebook itself.
        ids = sorted((pk for pk in carried[excerpt.pk] if pk in order), key=order.__getitem__)
        excerpt.code_names = [names[pk] for pk in ids]
        excerpt.citation = citations.get(excerpt.document.study_id, "")
        excerpt.document_url = (
            reverse("document", args=[review.slug, excerpt.document_id])
            + f"?version={excerpt.version_number}#excerpt-{excerpt.pk}"
        )
    return render(
        request,
        "coding/synthesis/code_detail.html",
        {
            "review": review,
            "membership": membership,
            "sees_all": sees_all,
            "mine_only": coder is not None,
            "code": node.code,
            "node": node,
            "ancestors": ancestors,
            "children": children,
            "memos": Memo.objects.filter(code=node.code).select_related("author"),
            "memo_form": memo_form or CodeMemoForm(),
            "filters": filters,
            "page": page,
            "excerpts": shown,
            "querystring": _querystring(request, ("coder", "study", "mine")),
        },
        status=status,
    )


@require_GET
def code_detail(request, slug, code_id):
    return _code_page(request, slug, code_id)


@require_POST
def code_memo(request, slug, code_id):
    review, _, _ = get_coding_review(request, slug)
    node, _ = _find_node(tree(review, counts=False), code_id)
    form = CodeMemoForm(request.POST)
    if form.is_valid():
        Memo.objects.create(
            review=review, code=node.code, author=request.user, text=form.cleaned_data["text"]
        )
        messages.success(request, f"Memo added to “{node.code.name}”.")
        return redirect(reverse("code_detail", args=[review.slug, code_id]) + "#memos")
    return _code_page(request, slug, code_id, memo_form=form, status=400)


# --- themes × studies ------------------------------------------------------------------------


LEVELS = {"themes": "Themes only", "codes": "Themes, codes and sub-codes"}


class MatrixForm(CoderForm):
    level = forms.ChoiceField(label="Rows", choices=LEVELS.items(), required=False)

    def __init__(self, *args, sees_all, **kwargs):
        super().__init__(*args, **kwargs)
        if not sees_all:
            del self.fields["coder"]


def _excerpts_by_study(review, nodes, coder):
    """{(code id, study id): distinct excerpts carrying the code or a code beneath it}, for
    the given nodes. One aggregate per depth among them (at most three): each maps every code
    applied to its ancestor at that depth, so no excerpt is counted twice in a cell."""
    applied = ExcerptCode.objects.filter(excerpt__review=review)
    if coder is not None:
        applied = applied.filter(excerpt__coder=coder)
    counts = {}
    for _depth, same_depth in groupby(sorted(nodes, key=lambda n: n.depth), lambda n: n.depth):
        row_of = Case(
            *(
                When(code_id__in=[n.code.pk for n in flatten([node])], then=Value(node.code.pk))
                for node in same_depth
            ),
            output_field=IntegerField(),
        )
        tallies = (
            applied.annotate(row=row_of, study=F("excerpt__document__study_id"))
            .filter(row__isnull=False)
            .values("row", "study")
            .annotate(n=Count("excerpt_id", distinct=True))
            .order_by()
            .values_list("row", "study", "n")
        )
        counts.update(((row, study), n) for row, study, n in tallies)
    return counts


@require_GET
def coding_matrix(request, slug):
    review, membership, config = get_coding_review(request, slug)
    sees_all = sees_all_coding(membership, config)
    form = MatrixForm(
        _bound(request),
        researchers=_researchers(review) if sees_all else [],
        sees_all=sees_all,
    )
    level = (form.cleaned_data.get("level") if form.is_valid() else "") or "themes"
    coder = _chosen_coder(request, membership, config, form)
    roots = tree(review, counts=False)
    nodes = list(flatten(roots)) if level == "codes" else roots
    studies = _studies_with_documents(review)
    counts = _excerpts_by_study(review, nodes, coder) if nodes and studies else {}
    citations = citations_for([s.pk for s in studies])
    for study in studies:
        study.citation = citations.get(study.pk, "")

    rows = []
    supported = Counter()
    for node in nodes:
        cells = [(study, counts.get((node.code.pk, study.pk), 0)) for study in studies]
        for study, n in cells:
            if n:
                supported[study.pk] += 1
        rows.append(
            {
                "node": node,
                "cells": cells,
                "studies": sum(1 for _, n in cells if n),
                "excerpts": sum(n for _, n in cells),
            }
        )
    return render(
        request,
        "coding/synthesis/matrix.html",
        {
            "review": review,
            "membership": membership,
            "sees_all": sees_all,
            "mine_only": coder is not None,
            "form": form,
            "level": level,
            "studies": studies,
            "rows": rows,
            "supported": [supported[study.pk] for study in studies],
            # Carried into each cell's link to the code's page, filtered to that study.
            "querystring": _querystring(request, ("coder", "mine")),
        },
    )


# --- co-occurrence -------------------------------------------------------------------------


MEASURES = {
    "both": "Excerpts carrying both codes, plus overlapping pairs of excerpts",
    "excerpt": "Excerpts carrying both codes only",
    "overlap": "Overlapping pairs of excerpts only",
}


class CooccurrenceForm(MatrixForm):
    measure = forms.ChoiceField(label="Count", choices=MEASURES.items(), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["level"]


def cooccurrence(excerpts):
    """Co-occurrence of codes over `excerpts`: (version id, coder id, start, end, code ids)
    tuples. Returns (carrying, same, overlap):

    * carrying[c]: excerpts carrying code c;
    * same[(a, b)], a < b: excerpts carrying both a and b;
    * overlap[(a, b)], a < b: pairs of distinct excerpts by the same coder on the same
      version whose spans share at least one character, one carrying a and the other b (a
      pair counts once per pair of codes, whichever way round).

    Sorts by version, coder and start, then sweeps each run keeping the excerpts still open,
    so only overlapping excerpts are ever compared."""
    carrying, same, overlap = Counter(), Counter(), Counter()
    ordered = sorted(excerpts, key=itemgetter(0, 1, 2, 3))
    for *_, codes in ordered:
        carrying.update(codes)
        same.update(combinations(sorted(codes), 2))
    for _, run in groupby(ordered, key=itemgetter(0, 1)):
        open_excerpts = []
        for _, _, start, end, codes in run:
            open_excerpts = [e for e in open_excerpts if e[0] > start]
            for _, other_codes in open_excerpts:
                overlap.update(
                    {(min(a, b), max(a, b)) for a in codes for b in other_codes if a != b}
                )
            open_excerpts.append((end, codes))
    return carrying, same, overlap


def _excerpt_tuples(review, coder):
    """(version id, coder id, start, end, code ids) of the review's coded excerpts."""
    applied = ExcerptCode.objects.filter(excerpt__review=review)
    if coder is not None:
        applied = applied.filter(excerpt__coder=coder)
    rows = applied.order_by().values_list(
        "excerpt_id", "excerpt__version_id", "excerpt__coder_id", "excerpt__start",
        "excerpt__end", "code_id",
    )  # fmt: skip
    excerpts = {}
    for excerpt_id, version_id, coder_id, start, end, code_id in rows:
        excerpts.setdefault(excerpt_id, (version_id, coder_id, start, end, set()))[4].add(code_id)
    return list(excerpts.values())


@require_GET
def coding_cooccurrence(request, slug):
    review, membership, config = get_coding_review(request, slug)
    sees_all = sees_all_coding(membership, config)
    form = CooccurrenceForm(
        _bound(request),
        researchers=_researchers(review) if sees_all else [],
        sees_all=sees_all,
    )
    measure = (form.cleaned_data.get("measure") if form.is_valid() else "") or "both"
    coder = _chosen_coder(request, membership, config, form)
    carrying, same, overlap = cooccurrence(_excerpt_tuples(review, coder))
    nodes = [node for node in flatten(tree(review, counts=False)) if carrying[node.code.pk]]

    def cell(row, column):
        if row is column:
            return carrying[row.code.pk]
        key = tuple(sorted((row.code.pk, column.code.pk)))
        if measure == "excerpt":
            return same[key]
        if measure == "overlap":
            return overlap[key]
        return same[key] + overlap[key]

    # Each cell: (count, whether it is on the diagonal).
    rows = [(row, [(cell(row, column), row is column) for column in nodes]) for row in nodes]
    return render(
        request,
        "coding/synthesis/cooccurrence.html",
        {
            "review": review,
            "membership": membership,
            "sees_all": sees_all,
            "mine_only": coder is not None,
            "form": form,
            "measure": measure,
            "measure_label": MEASURES[measure],
            "nodes": nodes,
            "rows": rows,
        },
    )


# --- agreement -----------------------------------------------------------------------------


class DocumentChoiceForm(forms.Form):
    document = forms.TypedChoiceField(label="Document", coerce=int)

    def __init__(self, *args, documents, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["document"].choices = [(d.pk, f"{d.study.label}: {d.title}") for d in documents]


def _version_label(version):
    coders = version.coder_count
    return f"Version {version.number} (coded by {coders} {'person' if coders == 1 else 'people'})"


class AgreementForm(forms.Form):
    # Its own id: the document chooser above it on the page has the field's default one.
    document = forms.IntegerField(widget=forms.HiddenInput(attrs={"id": "compare-document"}))
    version = forms.TypedChoiceField(label="Version", coerce=int)
    coder_a = forms.TypedChoiceField(label="Coder A", coerce=int)
    coder_b = forms.TypedChoiceField(label="Coder B", coerce=int)
    level = forms.ChoiceField(
        label="Unit",
        choices=[
            ("segment", "Segments (each stretch between excerpt boundaries counts once)"),
            ("character", "Characters (each segment weighs its length)"),
        ],
        widget=forms.RadioSelect,
    )
    include_uncoded = forms.BooleanField(
        label="Include text neither coder coded",
        required=False,
        help_text="Off by default: text nobody coded would count as agreement on every code.",
    )

    def __init__(self, *args, versions, coders, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["version"].choices = [(v.number, _version_label(v)) for v in versions]
        people = [(user.pk, user.display_name) for user in coders]
        self.fields["coder_a"].choices = people
        self.fields["coder_b"].choices = people

    def clean(self):
        data = super().clean()
        if data.get("coder_a") is not None and data.get("coder_a") == data.get("coder_b"):
            self.add_error("coder_b", "Choose a different coder from coder A.")
        return data


@require_GET
def coding_agreement(request, slug):
    review, membership, config = get_coding_review(request, slug)
    if not sees_all_coding(membership, config):
        raise PermissionDenied(
            "Agreement compares coders' work, so reviewers see it once the lead opens comparison."
        )
    documents = list(
        Document.objects.filter(review=review)
        .filter(Exists(Excerpt.objects.filter(document=OuterRef("pk"))))
        .select_related("study")
        .only("id", "title", "study__id", "study__label")
        .order_by("study__label", "study_id", "title", "id")
    )
    chooser = DocumentChoiceForm(
        {"document": request.GET["document"]} if "document" in request.GET else None,
        documents=documents,
    )
    context = {
        "review": review,
        "membership": membership,
        "config": config,
        "sees_all": True,
        "documents": documents,
        "chooser": chooser,
        "lead": is_lead(membership),
        "results": None,
    }
    if not chooser.is_valid():
        return render(request, "coding/synthesis/agreement.html", context)

    document = next(d for d in documents if d.pk == chooser.cleaned_data["document"])
    versions = list(
        DocumentVersion.objects.filter(document=document)
        .only("id", "number", "length", "document_id")
        .annotate(coder_count=Count("excerpts__coder", distinct=True))
        .order_by("-number")
    )
    coders = sorted(
        User.objects.filter(
            Exists(Excerpt.objects.filter(document=document, coder=OuterRef("pk")))
        ).only("id", "name", "email"),
        key=lambda u: (u.display_name.lower(), u.pk),
    )
    context.update(document=document, coders=coders)
    if len(coders) < 2:
        return render(request, "coding/synthesis/agreement.html", context)
    if "coder_a" in request.GET:
        data = request.GET.copy()
        data["document"] = document.pk
    else:
        # Until the form is sent: the latest version two people coded, and two who coded it.
        compared = next((v for v in versions if v.coder_count >= 2), versions[0])
        on_version = set(
            Excerpt.objects.filter(version=compared).values_list("coder_id", flat=True)
        )
        pair = sorted(coders, key=lambda u: u.pk not in on_version)[:2]
        data = {
            "document": document.pk,
            "version": compared.number,
            "coder_a": pair[0].pk,
            "coder_b": pair[1].pk,
            "level": "segment",
        }
    form = AgreementForm(data, versions=versions, coders=coders)
    context["form"] = form
    if not form.is_valid():
        return render(request, "coding/synthesis/agreement.html", context)

    cleaned = form.cleaned_data
    version = next(v for v in versions if v.number == cleaned["version"])
    coder_a = next(u for u in coders if u.pk == cleaned["coder_a"])
    coder_b = next(u for u in coders if u.pk == cleaned["coder_b"])
    applied = set(
        ExcerptCode.objects.filter(
            excerpt__version=version, excerpt__coder_id__in=(coder_a.pk, coder_b.pk)
        ).values_list("code_id", flat=True)
    )
    nodes = [n for n in flatten(tree(review, counts=False)) if n.code.pk in applied]
    figures = agreement.document_agreement(
        version, coder_a, coder_b, [n.code.pk for n in nodes],
        level=cleaned["level"], include_uncoded=cleaned["include_uncoded"],
    )  # fmt: skip
    unit = agreement.unit_description(cleaned["level"], cleaned["include_uncoded"])
    context.update(
        version=version,
        coder_a=coder_a,
        coder_b=coder_b,
        level=cleaned["level"],
        include_uncoded=cleaned["include_uncoded"],
        unit=unit,
        # "coded segment" of "coded segment: a stretch of text ...", and "character" of
        # "character (Unicode code point)", for the column heading.
        unit_name=unit.split(":", 1)[0].split(" (", 1)[0],
        results=list(zip(nodes, figures, strict=True)),
    )
    return render(request, "coding/synthesis/agreement.html", context)


# --- opening comparison --------------------------------------------------------------------


@require_POST
def coding_comparison(request, slug):
    """Open (open=1) or close (open=0) comparison: whether reviewers see each other's coding."""
    review, _, config = get_coding_review(request, slug, need=is_lead)
    choice = request.POST.get("open")
    if choice not in ("0", "1"):
        return HttpResponseBadRequest("Say open=1 or open=0.")
    opening = choice == "1"
    with transaction.atomic():
        config = CodingConfig.objects.select_for_update().get(pk=config.pk)
        if config.comparison_open != opening:
            config.comparison_open = opening
            config.comparison_opened_at = timezone.now() if opening else None
            config.save(update_fields=["comparison_open", "comparison_opened_at"])
    if opening:
        messages.success(request, "Comparison is open: every coder now sees everyone's coding.")
    else:
        messages.success(request, "Comparison is closed: reviewers see only their own coding.")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("coding_home", args=[review.slug])
    return redirect(target)


urlpatterns = [
    path("codes/<int:code_id>/", code_detail, name="code_detail"),
    path("codes/<int:code_id>/memo/", code_memo, name="code_memo"),
    path("matrix/", coding_matrix, name="coding_matrix"),
    path("cooccurrence/", coding_cooccurrence, name="coding_cooccurrence"),
    path("agreement/", coding_agreement, name="coding_agreement"),
    path("comparison/", coding_comparison, name="coding_comparison"),
]
