from django.core.files.uploadedfile import SimpleUploadedFile

from screening.importing import run_import
from screening.services import create_import_batch


def ris_bytes(entries):
    """entries: dicts with title/abstract/authors/year/doi/journal/volume/start/id keys."""
    lines = []
    for e in entries:
        lines.append("TY  - JOUR")
        if e.get("id"):
            lines.append(f"ID  - {e['id']}")
        if e.get("title"):
            lines.append(f"TI  - {e['title']}")
        for author in e.get("authors", ["Carr, Sarah"]):
            lines.append(f"AU  - {author}")
        if e.get("year"):
            lines.append(f"PY  - {e['year']}")
        lines.append(f"JO  - {e.get('journal', 'British Journal of Social Work')}")
        if e.get("volume"):
            lines.append(f"VL  - {e['volume']}")
        if e.get("start"):
            lines.append(f"SP  - {e['start']}")
        if e.get("doi"):
            lines.append(f"DO  - {e['doi']}")
        if e.get("abstract"):
            lines.append(f"AB  - {e['abstract']}")
        lines.append("ER  - ")
        lines.append("")
    return "\n".join(lines).encode("utf-8")


def work(n, **changes):
    base = {
        "id": f"E{n}",
        "title": f"Experiences of avoidable harm in community mental health care, study {n}",
        "abstract": f"Abstract of study {n} about service users' experiences.",
        "authors": [f"Author{n}, Alex", "Second, Sam"],
        "year": 2010 + n % 10,
        "doi": f"10.1234/harm.{n}",
        "volume": str(10 + n),
        "start": str(100 + n),
    }
    base.update(changes)
    return base


def import_file(review, content, name="search.ris", source="PsycINFO", user=None, **kwargs):
    """Upload and import synchronously (the task's code path without Celery)."""
    upload = SimpleUploadedFile(name, content)
    batch, _ = create_import_batch(
        review=review,
        user=user,
        upload=upload,
        source=source,
        kind=kwargs.pop("kind", "database"),
        run=False,
        **kwargs,
    )
    return run_import(batch)
