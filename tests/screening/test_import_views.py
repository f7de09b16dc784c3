"""The import, records and duplicates pages: who may use them and what they do."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from screening.models import DuplicatePair, ImportBatch, Record

from .factories import import_file, ris_bytes, work

pytestmark = pytest.mark.django_db


@pytest.fixture
def imported(review, lead):
    return import_file(review, ris_bytes([work(1), work(2), work(3)]), user=lead)


def upload(client, review, content, name="s.ris", **data):
    payload = {
        "source": "PsycINFO",
        "kind": "database",
        "search_date": "2021-03-01",
        "search_string": "harm",
        "file": SimpleUploadedFile(name, content),
        **data,
    }
    return client.post(reverse("imports", args=[review.slug]), payload)


def test_reviewer_uploads_and_the_import_runs(
    client_for, review, reviewer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client_for(reviewer), review, ris_bytes([work(1), work(2)]))
    batch = ImportBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == batch.get_absolute_url()
    batch.refresh_from_db()
    assert (batch.status, batch.records_added, batch.imported_by) == ("done", 2, reviewer)
    assert str(batch.search_date) == "2021-03-01" and batch.search_string == "harm"
    page = client_for(reviewer).get(batch.get_absolute_url()).content.decode()
    assert "2</strong> records added" in page


def test_unrecognised_file_is_refused_with_its_name(client_for, review, lead):
    response = upload(client_for(lead), review, b"just some words\nnothing else", name="notes.txt")
    assert response.status_code == 400
    assert "notes.txt" in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_oversized_upload_is_refused_before_reading(client_for, review, lead, settings):
    settings.IMPORT_MAX_UPLOAD_MB = 0
    response = upload(client_for(lead), review, ris_bytes([work(n) for n in range(300)]))
    assert response.status_code == 413
    assert "larger than the 0 MB limit" in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_failed_import_shows_its_error_on_the_page(
    client_for, review, lead, django_capture_on_commit_callbacks
):
    broken = ris_bytes([work(1)]) + b"TY  - JOUR\nTI  - no end\n" + ris_bytes([work(2)])
    with django_capture_on_commit_callbacks(execute=True):
        upload(client_for(lead), review, broken, name="broken.ris")
    batch = ImportBatch.objects.get()
    page = client_for(lead).get(batch.get_absolute_url()).content.decode()
    assert "nothing from this file was imported" in page
    assert "broken.ris" in page and Record.objects.count() == 0


def test_progress_partial_is_served_for_polling(client_for, review, lead, imported):
    response = client_for(lead).get(imported.get_absolute_url() + "?partial=progress")
    body = response.content.decode()
    assert 'id="import-progress"' in body and "<html" not in body


def test_csv_without_known_columns_asks_for_a_mapping(
    client_for, review, lead, django_capture_on_commit_callbacks
):
    content = b"Heading,Summary text,When\nHarm in care,About harm,2019\nSecond,More,2020\n"
    client = client_for(lead)
    response = upload(client, review, content, name="odd.csv")
    batch = ImportBatch.objects.get()
    assert batch.status == ImportBatch.Status.MAPPING
    assert response["Location"] == reverse("import_mapping", args=[review.slug, batch.pk])
    page = client.get(response["Location"]).content.decode()
    assert "Summary text" in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            response["Location"], {"title": "Heading", "abstract": "Summary text", "year": "When"}
        )
    batch.refresh_from_db()
    assert (batch.status, batch.records_added) == ("done", 2)
    assert Record.objects.get(position=1).title == "Harm in care"
    assert Record.objects.get(position=2).year == 2020


def test_mapping_without_title_or_abstract_is_refused(client_for, review, lead):
    content = b"Heading,Summary text\nHarm,About\n"
    client = client_for(lead)
    upload(client, review, content, name="odd.csv")
    batch = ImportBatch.objects.get()
    response = client.post(reverse("import_mapping", args=[review.slug, batch.pk]), {})
    assert response.status_code == 400
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.MAPPING


def test_records_page_searches_and_filters(client_for, review, lead, imported):
    import_file(
        review, ris_bytes([work(1, id="dup"), work(9, title="Personal budgets")]), source="ASSIA"
    )
    client = client_for(lead)
    url = reverse("records", args=[review.slug])
    kept = client.get(url).context["page"].paginator.count
    assert kept == 4
    assert client.get(url, {"source": "ASSIA"}).context["page"].paginator.count == 1
    assert client.get(url, {"status": "duplicate"}).context["page"].paginator.count == 1
    assert client.get(url, {"status": "all"}).context["page"].paginator.count == 5
    found = client.get(url, {"q": "budgets"}).context["page"].object_list
    assert [r.title for r in found] == ["Personal budgets"]
    assert client.get(url, {"year": "2011"}).context["page"].paginator.count == 1


def test_records_page_query_count_is_pinned(
    client_for, review, lead, imported, queries_of, django_assert_num_queries
):
    client = client_for(lead)
    url = reverse("records", args=[review.slug])
    with_few = queries_of(client, url)
    import_file(review, ris_bytes([work(n) for n in range(10, 40)]), source="ASSIA")
    with django_assert_num_queries(with_few):
        client.get(url)


def test_record_detail_lists_sources_and_raw_fields(client_for, review, lead, imported):
    import_file(review, ris_bytes([work(1, id="dup")]), source="ASSIA")
    record = Record.objects.get(source_id="E1")
    page = client_for(lead).get(record.get_absolute_url()).content.decode()
    assert "ASSIA" in page and "PsycINFO" in page
    assert "<code>TI</code>" in page


def test_hostile_html_in_an_abstract_is_shown_as_text(client_for, review, lead):
    import_file(
        review,
        ris_bytes(
            [
                work(
                    1,
                    abstract="<script>alert(1)</script> &lt;img "
                    "src=x onerror=alert(1)&gt; real text",
                )
            ]
        ),
    )
    record = Record.objects.get()
    page = client_for(lead).get(record.get_absolute_url()).content.decode()
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert "real text" in page


def test_duplicates_queue_decide_duplicate_and_undo(client_for, review, lead):
    a = work(1, doi="")
    import_file(review, ris_bytes([a, work(1, doi="", id="late", year=a["year"] + 2)]))
    pair = DuplicatePair.objects.get(status="pending")
    client = client_for(lead)
    queue = client.get(reverse("duplicates", args=[review.slug]))
    assert list(queue.context["page"].object_list) == [pair]
    page = client.get(reverse("duplicate_pair", args=[review.slug, pair.pk]))
    assert any(row["label"] == "Year" and row["differs"] for row in page.context["rows"])
    client.post(reverse("duplicate_pair", args=[review.slug, pair.pk]), {"decision": "duplicate"})
    pair.refresh_from_db()
    late = Record.objects.get(source_id="late")
    assert (pair.status, pair.decided_by, late.duplicate_of.source_id) == ("confirmed", lead, "E1")
    client.post(reverse("record_undo_merge", args=[review.slug, late.pk]))
    late.refresh_from_db()
    pair.refresh_from_db()
    assert late.duplicate_of is None and pair.status == "undone"


def test_not_duplicate_keeps_both(client_for, review, reviewer):
    a = work(1, doi="")
    import_file(review, ris_bytes([a, work(1, doi="", id="late", year=a["year"] + 2)]))
    pair = DuplicatePair.objects.get(status="pending")
    client_for(reviewer).post(
        reverse("duplicate_pair", args=[review.slug, pair.pk]), {"decision": "not_duplicate"}
    )
    pair.refresh_from_db()
    assert pair.status == "rejected"
    assert Record.objects.filter(duplicate_of=None).count() == 2


@pytest.mark.parametrize("persona,expected", [("advisory", 403), ("outsider", 404)])
@pytest.mark.parametrize("name", ["imports", "records", "duplicates"])
def test_advisory_and_outsiders_see_none_of_it(
    client_for, review, personas, persona, expected, name
):
    assert (
        client_for(personas[persona]).get(reverse(name, args=[review.slug])).status_code == expected
    )


@pytest.mark.parametrize("persona,expected", [("advisory", 403), ("outsider", 404)])
def test_advisory_and_outsiders_cannot_reach_objects(
    client_for, review, personas, persona, expected, imported
):
    record = Record.objects.first()
    client = client_for(personas[persona])
    urls = [
        imported.get_absolute_url(),
        record.get_absolute_url(),
        reverse("record_undo_merge", args=[review.slug, record.pk]),
    ]
    for url in urls:
        response = client.post(url) if url.endswith("undo-merge/") else client.get(url)
        assert response.status_code == expected, url
    response = upload(client, review, ris_bytes([work(7)]))
    assert response.status_code == expected
    assert ImportBatch.objects.count() == 1


def test_objects_of_another_review_are_404(client_for, review, lead):
    from tests.factories import ReviewFactory

    other = ReviewFactory()
    batch = import_file(other, ris_bytes([work(1)]))
    record = Record.objects.get()
    client = client_for(lead)
    assert client.get(reverse("import_detail", args=[review.slug, batch.pk])).status_code == 404
    assert client.get(reverse("record_detail", args=[review.slug, record.pk])).status_code == 404


@pytest.mark.parametrize("name", ["imports", "duplicates"])
def test_list_pages_query_count_is_pinned(
    client_for, review, lead, queries_of, name, django_assert_num_queries
):
    a = work(1, doi="")
    import_file(review, ris_bytes([a, work(1, doi="", id="b", year=a["year"] + 2)]), user=lead)
    client = client_for(lead)
    url = reverse(name, args=[review.slug])
    with_one = queries_of(client, url)
    for n in range(2, 6):
        c = work(n * 10, doi="")
        import_file(
            review,
            ris_bytes([c, work(n * 10, doi="", id=f"x{n}", year=c["year"] + 2)]),
            user=lead,
            source=f"DB{n}",
        )
    assert DuplicatePair.objects.filter(status="pending").count() == 5
    with django_assert_num_queries(with_one):
        client.get(url)


def test_review_page_shows_import_standing_to_researchers_only(
    client_for, review, lead, advisory, imported
):
    lead_page = client_for(lead).get(review.get_absolute_url())
    assert dict(lead_page.context["standing"])["Records"].startswith("3 identified")
    advisory_page = client_for(advisory).get(review.get_absolute_url())
    assert "Records" not in dict(advisory_page.context["standing"])
