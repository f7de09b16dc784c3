"""Short citations for studies, from their primary report (or first report)."""

from screening.models import StudyReport


def _authors(authors):
    names = [a.split(",")[0].strip() for a in authors or [] if a]
    if not names:
        return ""
    if len(names) == 1:
        return names[0]
    if len(names) == 2:
        return f"{names[0]} and {names[1]}"
    return f"{names[0]} et al."


def citation(record):
    """'Carr et al. (2023). Title. Journal.' from a Record."""
    parts = []
    who = _authors(record.authors)
    year = f"({record.year})" if record.year else "(n.d.)"
    parts.append(f"{who} {year}".strip())
    if record.title:
        parts.append(record.title.rstrip("."))
    if record.journal:
        parts.append(record.journal)
    return ". ".join(parts) + "."


def citations_for(study_ids):
    """{study id: citation} in one query."""
    reports = (
        StudyReport.objects.filter(study_id__in=set(study_ids))
        .select_related("record")
        .only(
            "study_id",
            "is_primary",
            "record__authors",
            "record__year",
            "record__title",
            "record__journal",
        )  # fmt: skip
        .order_by("study_id", "-is_primary", "record_id")
    )
    result = {}
    for report in reports:
        result.setdefault(report.study_id, citation(report.record))
    return result
