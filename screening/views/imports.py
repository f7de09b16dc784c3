from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import F, OuterRef, Subquery
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from reviewapp.access import get_review_for, is_researcher, posted

from .. import services
from ..forms import ColumnMappingForm, ImportForm, PairDecisionForm
from ..importing import max_upload_bytes, read_progress
from ..models import DuplicatePair, ImportBatch, Record, RecordStage, Stage
from ..queries import (
    batches_of,
    filter_records,
    import_counts,
    pending_pairs,
    record_group,
    sources_of,
)
from .prioritisation import cached_config, can_see_scores

PAGE_SIZE = 50


@require_http_methods(["GET", "POST"])
def imports(request, slug):
    review, membership = get_review_for(request, slug, need=is_researcher)
    form = ImportForm()
    status = 200
    if request.method == "POST":
        # Refuse an oversized upload before reading its body.
        if int(request.META.get("CONTENT_LENGTH") or 0) > max_upload_bytes() + 65536:
            form = ImportForm(posted(request))
            form.add_error(
                None,
                f"The file is larger than the {max_upload_bytes() // 1048576} MB "
                "limit for one file. Split the export into smaller files.",
            )
            status = 413
        else:
            form = ImportForm(request.POST, request.FILES)
            if form.is_valid():
                data = form.cleaned_data
                try:
                    batch, _ = services.create_import_batch(
                        review=review, user=request.user, upload=data["file"],
                        source=data["source"], kind=data["kind"],
                        search_date=data["search_date"], search_string=data["search_string"],
                    )  # fmt: skip
                except services.UploadRejected as exc:
                    form.add_error("file", str(exc))
                else:
                    if batch.status == ImportBatch.Status.MAPPING:
                        return redirect("import_mapping", slug=review.slug, batch_id=batch.pk)
                    return redirect(batch)
            status = 400
    return render(
        request, "screening/imports.html",
        {"review": review, "membership": membership, "form": form,
         "batches": batches_of(review), "counts": import_counts(review)},
        status=status,
    )  # fmt: skip


@require_GET
def import_detail(request, slug, batch_id):
    review, membership = get_review_for(request, slug, need=is_researcher)
    batch = get_object_or_404(ImportBatch.objects.select_related("imported_by"),
                              pk=batch_id, review=review)  # fmt: skip
    context = {"review": review, "membership": membership, "batch": batch,
               "progress": read_progress(batch.pk)}  # fmt: skip
    if request.GET.get("partial") == "progress":
        return render(request, "screening/import_detail.html#progress", context)
    return render(request, "screening/import_detail.html", context)


@require_http_methods(["GET", "POST"])
def import_mapping(request, slug, batch_id):
    review, membership = get_review_for(request, slug, need=is_researcher)
    batch = get_object_or_404(ImportBatch, pk=batch_id, review=review)
    if batch.status != ImportBatch.Status.MAPPING:
        return redirect(batch)
    from ..importing import inspect_upload

    with batch.file.open("rb") as binary:
        columns = inspect_upload(binary, batch.file_name).columns
    form = ColumnMappingForm(posted(request), columns=columns,
                             initial_mapping=batch.column_mapping)  # fmt: skip
    if request.method == "POST" and form.is_valid():
        services.set_column_mapping(batch=batch, mapping=form.mapping)
        return redirect(batch)
    return render(request, "screening/import_mapping.html",
                  {"review": review, "membership": membership, "batch": batch, "form": form,
                   "columns": columns},
                  status=400 if form.errors else 200)  # fmt: skip


def _ta_score():
    rows = RecordStage.objects.filter(record=OuterRef("pk"), stage=Stage.TA)
    return Subquery(rows.values("score")[:1])


@require_GET
def records(request, slug):
    review, membership = get_review_for(request, slug, need=is_researcher, related=["screening"])
    params = {k: request.GET.get(k, "") for k in ("q", "source", "year", "batch", "status")}
    rows = filter_records(review, **params)
    show_scores = can_see_scores(membership, cached_config(review))
    if show_scores:
        rows = rows.annotate(ta_score=_ta_score())
        # Sorting by score is offered only to those who may see scores: the order alone
        # would tell a blind reviewer how the ranking rates each record.
        if request.GET.get("sort") == "score":
            params["sort"] = "score"
            rows = rows.order_by(F("ta_score").desc(nulls_last=True), "id")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request, "screening/records.html",
        {"review": review, "membership": membership, "page": page, "params": params,
         "querystring": query.urlencode(), "sources": sources_of(review),
         "batches": batches_of(review), "show_scores": show_scores},
    )  # fmt: skip


@require_GET
def record_detail(request, slug, record_id):
    review, membership = get_review_for(request, slug, need=is_researcher, related=["screening"])
    record = get_object_or_404(Record.objects.select_related("batch"), pk=record_id, review=review)
    pairs = (
        DuplicatePair.objects.filter(review=review).filter(record_a=record)
        | DuplicatePair.objects.filter(review=review, record_b=record)
    ).select_related("decided_by")
    show_scores = can_see_scores(membership, cached_config(review))
    ta_stage = None
    if show_scores:
        ta_stage = RecordStage.objects.filter(record=record, stage=Stage.TA).only("score").first()
    return render(
        request, "screening/record_detail.html",
        {"review": review, "membership": membership, "record": record,
         "group": record_group(record), "pairs": pairs,
         "raw_items": sorted(record.source_fields.items()), "show_scores": show_scores,
         "ta_score": ta_stage.score if ta_stage else None},
    )  # fmt: skip


@require_POST
def record_undo_merge(request, slug, record_id):
    review, _ = get_review_for(request, slug, need=is_researcher)
    record = get_object_or_404(Record, pk=record_id, review=review)
    services.undo_merge(record=record, user=request.user)
    messages.success(request, "The merge was undone: this record stands on its own again.")
    return redirect(record)


@require_GET
def duplicates(request, slug):
    review, membership = get_review_for(request, slug, need=is_researcher)
    queue = pending_pairs(review).select_related("record_a", "record_b").order_by("-score", "id")
    page = Paginator(queue, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "screening/duplicates.html",
                  {"review": review, "membership": membership, "page": page})  # fmt: skip


COMPARED_FIELDS = [
    ("title", "Title"), ("first_author", "First author"), ("authors_text", "Authors"),
    ("year", "Year"), ("journal", "Journal"), ("volume", "Volume"), ("issue", "Issue"),
    ("pages", "Pages"), ("doi", "DOI"), ("pmid", "PMID"), ("abstract", "Abstract"),
    ("publication_type", "Type"), ("source", "Source"),
]  # fmt: skip


def _value(record, name):
    if name == "authors_text":
        return "; ".join(record.authors)
    if name == "source":
        return record.batch.source
    value = getattr(record, name)
    return "" if value is None else str(value)


@require_http_methods(["GET", "POST"])
def duplicate_pair(request, slug, pair_id):
    review, membership = get_review_for(request, slug, need=is_researcher)
    pair = get_object_or_404(
        DuplicatePair.objects.select_related("record_a__batch", "record_b__batch"),
        pk=pair_id,
        review=review,
    )
    form = PairDecisionForm(posted(request))
    if request.method == "POST" and form.is_valid():
        services.decide_pair(
            pair=pair, user=request.user, is_duplicate=form.cleaned_data["decision"] == "duplicate"
        )
        following = pending_pairs(review).order_by("-score", "id").first()
        messages.success(request, "Decision recorded.")
        if following is not None:
            return redirect("duplicate_pair", slug=review.slug, pair_id=following.pk)
        return redirect("duplicates", slug=review.slug)
    rows = []
    for name, label in COMPARED_FIELDS:
        a, b = _value(pair.record_a, name), _value(pair.record_b, name)
        rows.append(
            {"label": label, "a": a, "b": b, "differs": a.strip().lower() != b.strip().lower()}
        )
    return render(request, "screening/duplicate_pair.html",
                  {"review": review, "membership": membership, "pair": pair, "rows": rows,
                   "form": form},
                  status=400 if form.errors else 200)  # fmt: skip
