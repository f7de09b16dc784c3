"""Reads reused by the screening pages and by other apps (counts for the review page)."""

from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q

from .models import DuplicatePair, ImportBatch, Record

KNOWN_SOURCES = [
    "PsycINFO", "ASSIA", "Social Care Online", "Web of Science", "SSCI",
    "Social Policy and Practice", "MEDLINE", "PubMed", "Embase", "CINAHL", "Scopus",
    "Cochrane Library", "ProQuest Dissertations", "Google Scholar",
    "Expert recommendations", "Advisory Group recommendations", "Citation searching",
    "Websites",
]  # fmt: skip


def kept_records(review):
    """The review's records after deduplication: what screening works on."""
    return Record.objects.filter(review=review, duplicate_of=None)


def pending_pairs(review):
    return DuplicatePair.objects.filter(review=review, status=DuplicatePair.Status.PENDING)


def import_counts(review):
    totals = Record.objects.filter(review=review).aggregate(
        identified=Count("id"), kept=Count("id", filter=Q(duplicate_of=None))
    )
    totals["pending_pairs"] = pending_pairs(review).count()
    return totals


def standing(review, membership):
    from reviewapp.access import is_researcher

    if not is_researcher(membership):
        return []
    counts = import_counts(review)
    if not counts["identified"]:
        return [("Records", "none imported yet")]
    removed = counts["identified"] - counts["kept"]
    return [
        (
            "Records",
            f"{counts['identified']:,} identified, {removed:,} duplicates removed, "
            f"{counts['kept']:,} to screen",
        ),
        ("Duplicates queue", f"{counts['pending_pairs']:,} pair(s) waiting for a decision"),
    ]


def search_records(queryset, query):
    """Full-text search on PostgreSQL; a case-insensitive substring match elsewhere."""
    query = query.strip()
    if not query:
        return queryset
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchVector

        vector = SearchVector("title", "abstract", config="english")
        return queryset.alias(search=vector).filter(
            search=SearchQuery(query, search_type="websearch", config="english")
        )
    condition = Q()
    for word in query.split():
        condition &= Q(title__icontains=word) | Q(abstract__icontains=word)
    return queryset.filter(condition)


def filter_records(review, *, q="", source="", year="", batch="", status=""):
    records = Record.objects.filter(review=review).select_related("batch", "review")
    if status == "duplicate":
        records = records.exclude(duplicate_of=None)
    elif status == "queued":
        in_queue = pending_pairs(review).filter(
            Q(record_a=OuterRef("pk")) | Q(record_b=OuterRef("pk"))
        )
        records = records.filter(Exists(in_queue))
    elif status != "all":
        records = records.filter(duplicate_of=None)
    if source:
        records = records.filter(batch__source=source)
    if year.isdigit():
        records = records.filter(year=int(year))
    if batch.isdigit():
        records = records.filter(batch_id=int(batch))
    return search_records(records, q).order_by("id")


def batches_of(review):
    return ImportBatch.objects.filter(review=review).select_related("imported_by", "review")


def sources_of(review):
    return list(
        ImportBatch.objects.filter(review=review)
        .order_by("source")
        .values_list("source", flat=True)
        .distinct()
    )


def record_group(record):
    """The surviving record and every entry merged into it, with their batches."""
    root_id = record.duplicate_of_id or record.pk
    return list(
        Record.objects.filter(Q(pk=root_id) | Q(duplicate_of_id=root_id))
        .select_related("batch", "review")
        .order_by("id")
    )
