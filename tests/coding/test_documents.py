"""Documents and excerpts: offsets in code points, the highlight layer, the document view and
its excerpt actions, versions, blind coding, and who may do what."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from coding import layer
from coding.codebook import create_code
from coding.documents import DocumentError, add_document, revise_document
from coding.excerpts import ExcerptError, create_excerpt, update_excerpt
from coding.models import CodingConfig, Excerpt
from coding.offsets import code_points_to_utf16, utf16_length, utf16_to_code_points
from screening.models import Study

# "😀" and "𠀋" lie outside the Basic Multilingual Plane: two UTF-16 units each.
TEXT = "Intro 😀 line.\nThe service user felt 𠀋 unheard by staff. Café end."


def utf16(text, index):
    return code_points_to_utf16(text, index)


class TestOffsets:
    def test_ascii_offsets_are_equal(self):
        assert utf16_to_code_points("abc", 2) == 2
        assert code_points_to_utf16("abc", 3) == 3

    def test_astral_characters_count_twice_in_utf16(self):
        text = "a😀b"
        assert utf16_length(text) == 4
        assert utf16_to_code_points(text, 1) == 1  # before the emoji
        assert utf16_to_code_points(text, 3) == 2  # after it
        assert utf16_to_code_points(text, 4) == 3
        assert code_points_to_utf16(text, 2) == 3

    def test_half_a_surrogate_pair_rounds_down(self):
        assert utf16_to_code_points("a😀b", 2) == 1

    def test_offsets_outside_the_text_are_refused(self):
        with pytest.raises(ValueError):
            utf16_to_code_points("abc", 4)
        with pytest.raises(ValueError):
            utf16_to_code_points("abc", -1)

    def test_round_trip_over_every_position(self):
        for index in range(len(TEXT) + 1):
            assert utf16_to_code_points(TEXT, code_points_to_utf16(TEXT, index)) == index


@pytest.fixture
def study(review):
    return Study.objects.create(review=review, label="Smith 2020")


@pytest.fixture
def document(study, lead):
    return add_document(study=study, title="Findings", text=TEXT, source="paste", user=lead)


@pytest.fixture
def codes(review, lead):
    theme = create_code(review=review, user=lead, name="Poor relationships")
    code = create_code(review=review, user=lead, name="Passing the buck", parent=theme)
    return theme, code


def url(name, *args):
    return reverse(name, args=args)


class TestLayer:
    def test_marks_passages_and_escapes_text(self, review, lead):
        text = "a <b>bold</b> & more"
        span = layer.Span(id=7, number=1, start=2, end=13, coder="Lena", codes=[(3, "Harm")],
                          mine=True)  # fmt: skip
        html = str(layer.render(text, [span]))
        assert "<b>" not in html
        assert "&lt;b&gt;bold&lt;/b&gt;" in html
        assert 'data-excerpts="7"' in html
        assert 'aria-label="Excerpt 1 by Lena: Harm"' in html
        assert html.index('id="excerpt-7"') < html.index("&lt;b&gt;")

    def test_overlaps_are_marked_as_such(self):
        a = layer.Span(id=1, number=1, start=0, end=6, coder="A", codes=[(1, "X")], mine=True)
        b = layer.Span(id=2, number=2, start=3, end=9, coder="A", codes=[(2, "Y")], mine=True)
        html = str(layer.render("abcdefghij", [a, b]))
        assert 'class="hl code-2 hl-overlap" data-excerpts="1 2">def<' in html
        assert '<mark class="hl code-1" data-excerpts="1">abc</mark>' in html
        assert html.endswith("j")


class TestExcerptServices:
    def test_stores_code_points_and_the_quote(self, document, codes, reviewer):
        version = document.versions.get()
        start = TEXT.index("𠀋")
        excerpt = create_excerpt(version=version, coder=reviewer, start=start, end=start + 9,
                                 code_ids=[codes[1].pk])  # fmt: skip
        assert excerpt.text == "𠀋 unheard"

    def test_refuses_spans_outside_the_text_or_blank(self, document, codes, reviewer):
        version = document.versions.get()
        with pytest.raises(ExcerptError, match="not inside the text"):
            create_excerpt(version=version, coder=reviewer, start=0, end=len(TEXT) + 1,
                           code_ids=[codes[0].pk])  # fmt: skip
        with pytest.raises(ExcerptError, match="white space"):
            create_excerpt(version=version, coder=reviewer, start=5, end=6,
                           code_ids=[codes[0].pk])  # fmt: skip
        with pytest.raises(ExcerptError, match="at least one code"):
            create_excerpt(version=version, coder=reviewer, start=0, end=5, code_ids=[])

    def test_refuses_codes_of_another_review(self, document, reviewer, lead):
        from tests.factories import ReviewFactory

        other = create_code(review=ReviewFactory(), user=lead, name="Elsewhere")
        with pytest.raises(ExcerptError, match="not in this review"):
            create_excerpt(version=document.versions.get(), coder=reviewer, start=0, end=5,
                           code_ids=[other.pk])  # fmt: skip

    def test_only_the_coder_changes_an_excerpt(self, document, codes, reviewer, reviewer2):
        excerpt = create_excerpt(version=document.versions.get(), coder=reviewer, start=0,
                                 end=5, code_ids=[codes[0].pk])  # fmt: skip
        with pytest.raises(ExcerptError, match="Only the coder"):
            update_excerpt(excerpt=excerpt, user=reviewer2, memo="mine now")
        update_excerpt(excerpt=excerpt, user=reviewer, code_ids=[codes[1].pk], start=6, end=7)
        excerpt.refresh_from_db()
        assert list(excerpt.codes.all()) == [codes[1]]
        assert excerpt.text == "😀"


class TestVersions:
    def test_revising_adds_a_version_and_excerpts_stay_anchored(self, document, codes, lead):
        v1 = document.versions.get()
        excerpt = create_excerpt(version=v1, coder=lead, start=0, end=5, code_ids=[codes[0].pk])
        v2 = revise_document(document=document, text="New intro. " + TEXT, user=lead,
                             note="added a sentence")  # fmt: skip
        assert v2.number == 2
        v1.refresh_from_db()
        assert v1.text == TEXT
        excerpt.refresh_from_db()
        assert excerpt.version_id == v1.pk
        assert excerpt.text == "Intro"

    def test_unchanged_text_makes_no_version(self, document, lead):
        assert revise_document(document=document, text=TEXT, user=lead).number == 1

    def test_empty_text_is_refused(self, study, lead):
        with pytest.raises(DocumentError, match="no text"):
            add_document(study=study, title="x", text="  \n", source="paste", user=lead)


class TestDocumentView:
    def test_researchers_see_it_advisory_and_outsiders_do_not(
        self, client_for, document, lead, reviewer, advisory, outsider, review
    ):
        target = url("document", review.slug, document.pk)
        assert client_for(lead).get(target).status_code == 200
        assert client_for(reviewer).get(target).status_code == 200
        assert client_for(advisory).get(target).status_code == 403
        assert client_for(outsider).get(target).status_code == 404
        assert client_for(advisory).get(url("coding_home", review.slug)).status_code == 403
        assert client_for(outsider).get(url("coding_home", review.slug)).status_code == 404

    def test_coding_a_browser_selection_converts_utf16_offsets(
        self, client_for, document, codes, reviewer, review
    ):
        version = document.versions.get()
        start, end = TEXT.index("𠀋"), TEXT.index(" by staff")
        response = client_for(reviewer).post(
            url("excerpt_create", review.slug, document.pk),
            {
                "version": version.pk,
                "start": utf16(TEXT, start),
                "end": utf16(TEXT, end),
                "unit": "utf16",
                "codes": [codes[0].pk, codes[1].pk],
                "memo": "strong quote",
            },
            headers={"X-Requested-With": "fetch"},
        )
        assert response.status_code == 200
        excerpt = Excerpt.objects.get()
        assert (excerpt.start, excerpt.end) == (start, end)
        assert excerpt.text == "𠀋 unheard"
        assert excerpt.coder == reviewer
        assert set(excerpt.codes.all()) == set(codes)
        assert excerpt.memo == "strong quote"
        # The fragment answers with the new highlight in place.
        body = response.content.decode()
        assert f'data-excerpts="{excerpt.pk}"' in body
        assert "<html" not in body

    def test_coding_by_quote_without_javascript(self, client_for, document, codes, lead, review):
        version = document.versions.get()
        response = client_for(lead).post(
            url("excerpt_create", review.slug, document.pk),
            {"version": version.pk, "quote": "Café end", "codes": [codes[0].pk]},
        )
        excerpt = Excerpt.objects.get()
        assert response.status_code == 302
        assert response["Location"].endswith(f"#excerpt-{excerpt.pk}")
        assert excerpt.text == "Café end"

    def test_problems_are_shown_and_nothing_is_saved(self, client_for, document, codes, lead,
                                                     review):  # fmt: skip
        version = document.versions.get()
        target = url("excerpt_create", review.slug, document.pk)
        client = client_for(lead)
        response = client.post(target, {"version": version.pk, "quote": "not there",
                                        "codes": [codes[0].pk]})  # fmt: skip
        assert response.status_code == 400
        assert "not found in the text" in response.content.decode()
        response = client.post(target, {"version": version.pk, "start": 0, "end": 5,
                                        "unit": "utf16"})  # fmt: skip
        assert response.status_code == 400
        assert "Choose at least one code" in response.content.decode()
        response = client.post(target, {"version": version.pk, "start": 0, "end": 999,
                                        "unit": "utf16", "codes": [codes[0].pk]})  # fmt: skip
        assert response.status_code == 400
        assert Excerpt.objects.count() == 0

    def test_advisory_member_cannot_code(self, client_for, document, codes, advisory, review):
        response = client_for(advisory).post(
            url("excerpt_create", review.slug, document.pk),
            {"version": document.versions.get().pk, "quote": "Intro", "codes": [codes[0].pk]},
        )
        assert response.status_code == 403
        assert Excerpt.objects.count() == 0

    def test_blind_until_the_lead_opens_comparison(
        self, client_for, document, codes, reviewer, reviewer2, review
    ):
        version = document.versions.get()
        theirs = create_excerpt(version=version, coder=reviewer2, start=0, end=5,
                                code_ids=[codes[0].pk])  # fmt: skip
        target = url("document", review.slug, document.pk)
        body = client_for(reviewer).get(target).content.decode()
        assert f'data-excerpts="{theirs.pk}"' not in body
        assert "Blind coding" in body
        assert (
            client_for(reviewer).get(url("excerpt_edit", review.slug, theirs.pk)).status_code == 404
        )
        CodingConfig.objects.update_or_create(review=review, defaults={"comparison_open": True})
        body = client_for(reviewer).get(target).content.decode()
        assert f'data-excerpts="{theirs.pk}"' in body
        # Seeing is not editing.
        response = client_for(reviewer).post(
            url("excerpt_edit", review.slug, theirs.pk),
            {"start": 0, "end": 3, "codes": [codes[0].pk]},
        )
        assert response.status_code == 403
        theirs.refresh_from_db()
        assert theirs.end == 5

    def test_lead_sees_everyone_and_can_ask_for_own_only(
        self, client_for, document, codes, lead, reviewer2, review
    ):
        theirs = create_excerpt(version=document.versions.get(), coder=reviewer2, start=0,
                                end=5, code_ids=[codes[0].pk])  # fmt: skip
        target = url("document", review.slug, document.pk)
        assert f'data-excerpts="{theirs.pk}"' in client_for(lead).get(target).content.decode()
        body = client_for(lead).get(target + "?mine=1").content.decode()
        assert f'data-excerpts="{theirs.pk}"' not in body

    def test_edit_span_codes_and_memo(self, client_for, document, codes, reviewer, review):
        excerpt = create_excerpt(version=document.versions.get(), coder=reviewer, start=0,
                                 end=5, code_ids=[codes[0].pk])  # fmt: skip
        response = client_for(reviewer).post(
            url("excerpt_edit", review.slug, excerpt.pk),
            {"start": 6, "end": 7, "codes": [codes[1].pk], "memo": "emoji"},
        )
        assert response.status_code == 302
        excerpt.refresh_from_db()
        assert (excerpt.text, excerpt.memo) == ("😀", "emoji")
        assert list(excerpt.codes.all()) == [codes[1]]

    def test_use_selection_replaces_the_span(self, client_for, document, codes, reviewer, review):
        excerpt = create_excerpt(version=document.versions.get(), coder=reviewer, start=0,
                                 end=5, code_ids=[codes[0].pk])  # fmt: skip
        start = TEXT.index("unheard")
        response = client_for(reviewer).post(
            url("excerpt_span", review.slug, excerpt.pk),
            {"start": utf16(TEXT, start), "end": utf16(TEXT, start + 7), "unit": "utf16"},
            headers={"X-Requested-With": "fetch"},
        )
        assert response.status_code == 200
        excerpt.refresh_from_db()
        assert excerpt.text == "unheard"

    def test_delete_own_only(self, client_for, document, codes, reviewer, lead, review):
        excerpt = create_excerpt(version=document.versions.get(), coder=reviewer, start=0,
                                 end=5, code_ids=[codes[0].pk])  # fmt: skip
        response = client_for(lead).post(url("excerpt_delete", review.slug, excerpt.pk))
        assert response.status_code == 302
        assert Excerpt.objects.filter(pk=excerpt.pk).exists()
        client_for(reviewer).post(url("excerpt_delete", review.slug, excerpt.pk))
        assert not Excerpt.objects.filter(pk=excerpt.pk).exists()

    def test_older_versions_stay_viewable(self, client_for, document, codes, lead, review):
        v1 = document.versions.get()
        excerpt = create_excerpt(version=v1, coder=lead, start=0, end=5, code_ids=[codes[0].pk])
        client = client_for(lead)
        response = client.post(url("document_revise", review.slug, document.pk),
                               {"text": "Rewritten text.", "note": "OCR fix"})  # fmt: skip
        assert response.status_code == 302
        latest = client.get(url("document", review.slug, document.pk)).content.decode()
        assert "Rewritten text." in latest
        assert f'data-excerpts="{excerpt.pk}"' not in latest
        old = client.get(url("document", review.slug, document.pk) + "?version=1")
        assert f'data-excerpts="{excerpt.pk}"' in old.content.decode()

    def test_query_count_does_not_grow_with_excerpts(
        self, client_for, document, codes, lead, review, queries_of
    ):
        version = document.versions.get()
        client = client_for(lead)
        target = url("document", review.slug, document.pk)
        create_excerpt(version=version, coder=lead, start=0, end=5, code_ids=[codes[0].pk])
        few = queries_of(client, target)
        for n in range(30):
            create_excerpt(version=version, coder=lead, start=n % 10, end=n % 10 + 12,
                           code_ids=[codes[n % 2].pk])  # fmt: skip
        assert queries_of(client, target) == few

    def test_code_colours_stylesheet(self, client_for, codes, lead, advisory, review):
        response = client_for(lead).get(url("code_colours", review.slug))
        assert response["Content-Type"].startswith("text/css")
        assert (
            f".code-{codes[0].pk}{{--code-colour:{codes[0].colour}}}" in response.content.decode()
        )
        assert client_for(advisory).get(url("code_colours", review.slug)).status_code == 403


class TestAddDocument:
    def test_paste(self, client_for, study, lead, review):
        response = client_for(lead).post(
            url("document_add", review.slug, study.pk),
            {"title": "Findings", "source": "paste", "text": "Line one\r\nLine 😀 two"},
        )
        assert response.status_code == 302
        version = study.documents.get().versions.get()
        assert version.text == "Line one\nLine 😀 two"
        assert version.length == len("Line one\nLine 😀 two")

    def test_upload_text_file(self, client_for, study, reviewer, review):
        upload = SimpleUploadedFile("findings.txt", "Café findings\r\n".encode("cp1252"))
        response = client_for(reviewer).post(
            url("document_add", review.slug, study.pk),
            {"title": "Findings", "source": "upload", "file": upload},
        )
        assert response.status_code == 302
        document = study.documents.get()
        assert document.source == "txt"
        assert document.versions.get().text.startswith("Café findings")

    def test_refused_upload_names_the_problem(self, client_for, study, lead, review):
        upload = SimpleUploadedFile("scan.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
        response = client_for(lead).post(
            url("document_add", review.slug, study.pk),
            {"title": "Scan", "source": "upload", "file": upload},
        )
        assert response.status_code == 400
        assert "scan.png" in response.content.decode()
        assert not study.documents.exists()

    def test_advisory_cannot_add(self, client_for, study, advisory, review):
        response = client_for(advisory).post(
            url("document_add", review.slug, study.pk),
            {"title": "x", "source": "paste", "text": "hello"},
        )
        assert response.status_code == 403
        assert not study.documents.exists()

    def test_workspace_lists_studies_and_documents(self, client_for, document, lead, review):
        body = client_for(lead).get(url("coding_home", review.slug)).content.decode()
        assert "Smith 2020" in body
        assert url("document", review.slug, document.pk) in body
