"""The synthesis pages: a code's page, themes × studies, co-occurrence, agreement, and the
lead's switch that opens comparison. Who may see each, that blind coders never see (or
count) anyone else's excerpts, and figures checked against hand-computed cases."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from coding.access import coding_config
from coding.codebook import create_code
from coding.documents import add_document, revise_document
from coding.excerpts import create_excerpt
from coding.models import CodingConfig, Memo
from coding.views.synthesis import cooccurrence
from screening.models import Record, Study, StudyReport
from tests.screening.factories import import_file, ris_bytes, work

pytestmark = pytest.mark.django_db

TEXT = "".join(f"Sentence {i:02d} of the findings, about care and harm. " for i in range(40))


def document(study, user, text=TEXT, title=None):
    """A pasted document of `study`; returns its first version."""
    doc = add_document(study=study, title=title or f"Findings of {study.label}", text=text,
                       source="paste", user=user)  # fmt: skip
    return doc.versions.get()


def code(review, user, name, parent=None, **fields):
    return create_code(review=review, user=user, name=name, parent=parent, **fields)


def excerpt(version, coder, start, end, *codes, memo=""):
    return create_excerpt(version=version, coder=coder, start=start, end=end,
                          code_ids=[c.pk for c in codes], memo=memo)  # fmt: skip


def open_comparison(review):
    CodingConfig.objects.update_or_create(review=review, defaults={"comparison_open": True})


@pytest.fixture
def studies(review):
    labels = ("Adams 2019", "Baker 2021")
    return [Study.objects.create(review=review, label=label) for label in labels]


@pytest.fixture
def codebook(review, lead):
    """Theme "Trust", its code "Being believed" with sub-code "Disbelief", and theme "Access"."""
    trust = code(review, lead, "Trust", description="How far people trust services.",
                 inclusion_notes="Talk of relying on staff.",
                 exclusion_notes="Trust between service users.")  # fmt: skip
    believed = code(review, lead, "Being believed", parent=trust)
    disbelief = code(review, lead, "Disbelief", parent=believed)
    access = code(review, lead, "Access")
    return {"trust": trust, "believed": believed, "disbelief": disbelief, "access": access}


def code_url(review, code):
    return reverse("code_detail", args=[review.slug, code.pk])


def url_of(name, review):
    return reverse(name, args=[review.slug])


# --------------------------------------------------------------------------- who may


@pytest.mark.parametrize(
    ("persona", "status"),
    [("lead", 200), ("reviewer", 200), ("advisory", 403), ("outsider", 404)],
)
@pytest.mark.parametrize("page", ["code_detail", "coding_matrix", "coding_cooccurrence"])
def test_who_may_see_the_synthesis_pages(client_for, personas, review, codebook, page, persona,
                                         status):  # fmt: skip
    url = code_url(review, codebook["trust"]) if page == "code_detail" else url_of(page, review)
    assert client_for(personas[persona]).get(url).status_code == status


@pytest.mark.parametrize(
    ("persona", "comparison_open", "status"),
    [
        ("lead", False, 200),
        ("lead", True, 200),
        ("reviewer", False, 403),
        ("reviewer", True, 200),
        ("advisory", True, 403),
        ("outsider", True, 404),
    ],
)
def test_who_may_see_agreement(client_for, personas, review, persona, comparison_open, status):
    if comparison_open:
        open_comparison(review)
    response = client_for(personas[persona]).get(url_of("coding_agreement", review))
    assert response.status_code == status


@pytest.mark.parametrize("page", ["code_detail", "coding_matrix", "coding_cooccurrence",
                                  "coding_agreement"])  # fmt: skip
def test_pages_are_get_only(client_for, lead, review, codebook, page):
    url = code_url(review, codebook["trust"]) if page == "code_detail" else url_of(page, review)
    assert client_for(lead).post(url).status_code == 405


def test_a_code_of_another_review_is_not_found(client_for, lead, review, codebook):
    from tests.factories import ReviewFactory

    other = ReviewFactory()
    foreign = code(other, lead, "Elsewhere")
    assert client_for(lead).get(code_url(review, foreign)).status_code == 404


# --------------------------------------------------------------------------- the code's page


def test_code_page_shows_the_code_its_sub_codes_and_every_excerpt_beneath_it(
    client_for, review, lead, reviewer, studies, codebook
):
    import_file(review, ris_bytes([work(1)]), user=lead)
    StudyReport.objects.create(study=studies[0], record=Record.objects.get(review=review),
                               is_primary=True)  # fmt: skip
    adams, baker = document(studies[0], lead), document(studies[1], lead)
    trust, believed, disbelief = codebook["trust"], codebook["believed"], codebook["disbelief"]
    on_theme = excerpt(adams, lead, 0, 20, trust, memo="Sets the tone.")
    on_both = excerpt(baker, lead, 40, 60, believed, disbelief, codebook["access"])
    on_sub = excerpt(baker, lead, 100, 120, disbelief)
    excerpt(adams, lead, 200, 220, codebook["access"])  # not under Trust
    Memo.objects.create(review=review, code=trust, author=reviewer, text="Ask the group.")

    response = client_for(lead).get(code_url(review, trust))

    assert response.status_code == 200
    assert [e.pk for e in response.context["excerpts"]] == [on_theme.pk, on_both.pk, on_sub.pk]
    # Being believed: two excerpts, the one carrying it and its sub-code counted once.
    assert [(n.code.name, count) for n, count in response.context["children"]] == [
        ("Being believed", 2)
    ]
    page = response.content.decode()
    document_url = reverse("document", args=[review.slug, adams.document_id])
    for text in [
        "<h1>",
        "Trust",
        '<span class="tag">Theme</span>',
        "How far people trust services.",
        "<dt>When to use</dt>",
        "Talk of relying on staff.",
        "<dt>When not to use</dt>",
        "Trust between service users.",
        "Ask the group.",
        "<strong>Rita Reviewer</strong>",
        TEXT[0:20],
        TEXT[40:60],
        "Author1 and Second (2011). Experiences of avoidable harm in community mental health "
        "care, study 1. British Journal of Social Work.",
        f'href="{document_url}?version=1#excerpt-{on_theme.pk}"',
        "<dt>Coder</dt><dd>Lena Lead</dd>",
        "<dd>Being believed, Disbelief, Access</dd>",
        "Sets the tone.",
        '<label for="id_coder">Coder:</label>',
        '<label for="id_study">Study:</label>',
        "3 excerpts.",
    ]:
        assert text in page, text
    assert TEXT[200:220] not in page


def test_code_page_of_a_sub_code_shows_where_it_sits(client_for, review, lead, codebook):
    response = client_for(lead).get(code_url(review, codebook["disbelief"]))
    assert [c.name for c in response.context["ancestors"]] == ["Trust", "Being believed"]
    assert '<span class="tag">Sub-code</span>' in response.content.decode()
    assert response.context["children"] == []


def test_code_page_filters_by_coder_and_study(
    client_for, review, lead, reviewer, studies, codebook
):
    adams, baker = document(studies[0], lead), document(studies[1], lead)
    trust = codebook["trust"]
    by_lead = excerpt(adams, lead, 0, 20, trust)
    by_rita = excerpt(adams, reviewer, 30, 50, trust)
    in_baker = excerpt(baker, reviewer, 0, 20, trust)
    client = client_for(lead)

    def shown(query):
        return [e.pk for e in client.get(code_url(review, trust), query).context["excerpts"]]

    assert shown({}) == [by_lead.pk, by_rita.pk, in_baker.pk]
    assert shown({"coder": reviewer.pk}) == [by_rita.pk, in_baker.pk]
    assert shown({"study": studies[1].pk}) == [in_baker.pk]
    assert shown({"coder": reviewer.pk, "study": studies[0].pk}) == [by_rita.pk]
    assert shown({"mine": "1"}) == [by_lead.pk]


def test_code_page_paginates_fifty_excerpts(client_for, review, lead, studies, codebook):
    version = document(studies[0], lead)
    for i in range(60):
        excerpt(version, lead, i * 10, i * 10 + 5, codebook["trust"])
    client = client_for(lead)
    first = client.get(code_url(review, codebook["trust"]), {"coder": lead.pk})
    second = client.get(code_url(review, codebook["trust"]), {"coder": lead.pk, "page": 2})
    assert (len(first.context["excerpts"]), len(second.context["excerpts"])) == (50, 10)
    assert f'href="?coder={lead.pk}&amp;page=2"' in first.content.decode()


def make_excerpts(version, coder, count, *codes):
    for i in range(count):
        excerpt(version, coder, i * 10, i * 10 + 5, *codes)


@pytest.mark.parametrize("persona", ["lead", "reviewer"])
def test_code_page_query_count_does_not_grow_with_excerpts(
    client_for, queries_of, personas, review, lead, studies, codebook, persona
):
    user = personas[persona]
    import_file(review, ris_bytes([work(1), work(2)]), user=lead)
    for study, record in zip(studies, Record.objects.filter(review=review).order_by("id"),
                             strict=True):  # fmt: skip
        StudyReport.objects.create(study=study, record=record, is_primary=True)
    versions = [document(study, lead) for study in studies]
    url = code_url(review, codebook["trust"])
    client = client_for(user)
    make_excerpts(versions[0], user, 3, codebook["trust"])
    make_excerpts(versions[1], user, 2, codebook["believed"], codebook["disbelief"])
    few = queries_of(client, url)
    make_excerpts(versions[0], user, 30, codebook["disbelief"])
    make_excerpts(versions[1], user, 25, codebook["trust"], codebook["access"])
    many = queries_of(client, url)
    assert client.get(url).context["page"].paginator.count == 60
    # Session, user, membership, coding settings, codebook, studies, [the researchers for
    # the coder filter: lead only], sub-code counts, the count, the page, the codes on it,
    # citations, memos.
    assert few == many == (13 if persona == "lead" else 12)


def test_code_page_never_loads_a_version_text(client_for, review, lead, studies, codebook):
    excerpt(document(studies[0], lead), lead, 0, 20, codebook["trust"])
    client = client_for(lead)
    client.get(code_url(review, codebook["trust"]))
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(code_url(review, codebook["trust"]))
    assert response.status_code == 200
    assert not [q for q in ctx.captured_queries if '"coding_documentversion"."text"' in q["sql"]]


# --------------------------------------------------------------------------- blind coding


def test_blind_reviewer_sees_and_counts_only_their_own_excerpts(
    client_for, review, lead, reviewer, reviewer2, studies, codebook
):
    version = document(studies[0], lead)
    trust, believed = codebook["trust"], codebook["believed"]
    mine = excerpt(version, reviewer, 0, 20, believed)
    excerpt(version, lead, 30, 50, believed)
    excerpt(version, reviewer2, 60, 80, believed, trust)
    client = client_for(reviewer)

    response = client.get(code_url(review, trust), {"coder": reviewer2.pk})
    assert [e.pk for e in response.context["excerpts"]] == [mine.pk]
    assert [count for _, count in response.context["children"]] == [1]
    page = response.content.decode()
    assert TEXT[30:50] not in page and TEXT[60:80] not in page
    assert "Lena Lead" not in page.split("<main", 1)[1]
    assert 'name="coder"' not in page
    assert "Blind coding" in page

    matrix = client.get(url_of("coding_matrix", review)).context
    assert [row["excerpts"] for row in matrix["rows"]] == [1, 0]
    carrying = client.get(url_of("coding_cooccurrence", review)).context
    assert [(node.code.name, cells) for node, cells in carrying["rows"]] == [
        ("Being believed", [(1, True)])
    ]


def test_opening_comparison_lets_reviewers_see_everyone(
    client_for, review, lead, reviewer, studies, codebook
):
    version = document(studies[0], lead)
    excerpt(version, reviewer, 0, 20, codebook["trust"])
    by_lead = excerpt(version, lead, 30, 50, codebook["trust"])
    url = code_url(review, codebook["trust"])
    assert TEXT[30:50] not in client_for(reviewer).get(url).content.decode()

    response = client_for(lead).post(url_of("coding_comparison", review), {"open": "1"})
    assert response.status_code == 302
    config = CodingConfig.objects.get(review=review)
    assert config.comparison_open is True
    assert config.comparison_opened_at is not None

    response = client_for(reviewer).get(url)
    assert by_lead.pk in [e.pk for e in response.context["excerpts"]]
    assert TEXT[30:50] in response.content.decode()
    assert 'name="coder"' in response.content.decode()


# --------------------------------------------------------------------------- memos


def test_researcher_adds_a_memo_to_a_code(client_for, review, reviewer, codebook):
    url = reverse("code_memo", args=[review.slug, codebook["believed"].pk])
    response = client_for(reviewer).post(url, {"text": "  Overlaps with Access?  "})
    assert response.status_code == 302
    assert response["Location"] == code_url(review, codebook["believed"]) + "#memos"
    memo = Memo.objects.get()
    assert (memo.code, memo.document, memo.author, memo.text, memo.review) == (
        codebook["believed"], None, reviewer, "Overlaps with Access?", review,
    )  # fmt: skip


def test_an_empty_memo_is_refused(client_for, review, reviewer, codebook):
    url = reverse("code_memo", args=[review.slug, codebook["trust"].pk])
    response = client_for(reviewer).post(url, {"text": "   "})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert not Memo.objects.exists()


@pytest.mark.parametrize(("persona", "status"), [("advisory", 403), ("outsider", 404)])
def test_only_researchers_add_memos(client_for, personas, review, codebook, persona, status):
    url = reverse("code_memo", args=[review.slug, codebook["trust"].pk])
    assert client_for(personas[persona]).post(url, {"text": "Hello"}).status_code == status
    assert not Memo.objects.exists()


def test_memo_url_is_post_only(client_for, lead, review, codebook):
    url = reverse("code_memo", args=[review.slug, codebook["trust"].pk])
    assert client_for(lead).get(url).status_code == 405


# --------------------------------------------------------------------------- themes × studies


@pytest.fixture
def matrix_data(review, lead, reviewer, studies, codebook):
    """Adams: e1 Trust; e2 Being believed + Disbelief; e3 Access + Being believed.
    Baker: e4 Disbelief (Rita). Carr has a document and no excerpt; Dunn has no document."""
    carr = Study.objects.create(review=review, label="Carr 2023")
    Study.objects.create(review=review, label="Dunn 2024")
    adams, baker = document(studies[0], lead), document(studies[1], lead)
    document(carr, lead)
    c = codebook
    excerpt(adams, lead, 0, 10, c["trust"])
    excerpt(adams, lead, 20, 30, c["believed"], c["disbelief"])
    excerpt(adams, lead, 40, 50, c["access"], c["believed"])
    excerpt(baker, reviewer, 0, 10, c["disbelief"])
    return c


def matrix_rows(response):
    return [
        (row["node"].code.name, [n for _, n in row["cells"]], row["studies"], row["excerpts"])
        for row in response.context["rows"]
    ]


def test_matrix_counts_each_excerpt_once_under_each_theme(client_for, review, lead, matrix_data):
    response = client_for(lead).get(url_of("coding_matrix", review))
    assert [s.label for s in response.context["studies"]] == ["Adams 2019", "Baker 2021",
                                                              "Carr 2023"]  # fmt: skip
    assert matrix_rows(response) == [
        ("Trust", [3, 1, 0], 2, 4),
        ("Access", [1, 0, 0], 1, 1),
    ]
    assert response.context["supported"] == [2, 1, 0]
    page = response.content.decode()
    for text in [
        "<caption",
        '<th scope="col">Theme</th>',
        '<th scope="col"><a href="#study-',
        '<th scope="row" class="synth-depth-0">',
        '<span aria-hidden="true">✓ </span>3<span class="visually-hidden"> excerpts</span>',
        '<span aria-hidden="true">–</span><span class="visually-hidden">none</span>',
        "2 of 3",
        '<dt id="study-',
        "No reference recorded for this study.",
    ]:
        assert text in page, text
    assert "Dunn 2024" not in page


def test_matrix_can_show_every_code(client_for, review, lead, matrix_data):
    response = client_for(lead).get(url_of("coding_matrix", review), {"level": "codes"})
    assert matrix_rows(response) == [
        ("Trust", [3, 1, 0], 2, 4),
        ("Being believed", [2, 1, 0], 2, 3),
        ("Disbelief", [1, 1, 0], 2, 2),
        ("Access", [1, 0, 0], 1, 1),
    ]
    # Baker's one excerpt (Disbelief) supports Disbelief, Being believed and Trust.
    assert response.context["supported"] == [4, 3, 0]


def test_matrix_for_one_coder(client_for, review, lead, reviewer, matrix_data):
    response = client_for(lead).get(url_of("coding_matrix", review), {"coder": reviewer.pk})
    assert matrix_rows(response) == [("Trust", [0, 1, 0], 1, 1), ("Access", [0, 0, 0], 0, 0)]


def test_matrix_query_count_does_not_grow(client_for, queries_of, review, lead, studies,
                                          codebook):  # fmt: skip
    versions = [document(study, lead) for study in studies]
    client = client_for(lead)
    url = url_of("coding_matrix", review) + "?level=codes"
    make_excerpts(versions[0], lead, 2, codebook["trust"])
    few = queries_of(client, url)
    make_excerpts(versions[1], lead, 20, codebook["disbelief"], codebook["access"])
    # Session, user, membership, coding settings, researchers, codebook, studies, one
    # aggregate per depth of the tree (three), citations.
    assert few == queries_of(client, url) == 11


# --------------------------------------------------------------------------- co-occurrence


def test_cooccurrence_by_hand():
    x, y, z = 1, 2, 3
    lead, rita = 10, 11
    excerpts = [
        (100, lead, 0, 10, {x, y}),
        (100, lead, 5, 15, {z}),  # overlaps the first: X-Z and Y-Z
        (100, lead, 20, 30, {x}),
        (100, lead, 30, 40, {y}),  # only touches the one before: no overlap
        (100, lead, 50, 60, {x, y}),
        (100, lead, 55, 65, {x, y}),  # a pair carrying X and Y both ways counts once
        (100, rita, 0, 10, {y}),  # overlaps the lead's first, but another coder's
        (100, rita, 8, 12, {x, z}),  # overlaps Rita's first: X-Y and Y-Z
        (200, lead, 0, 10, {z}),  # another version
    ]
    carrying, same, overlap = cooccurrence(excerpts)
    assert dict(carrying) == {x: 5, y: 5, z: 3}
    assert dict(same) == {(x, y): 3, (x, z): 1}
    assert dict(overlap) == {(x, y): 2, (x, z): 1, (y, z): 2}


def test_cooccurrence_page(client_for, review, lead, reviewer, studies, codebook):
    trust, believed, access = codebook["trust"], codebook["believed"], codebook["access"]
    version, other = document(studies[0], lead), document(studies[1], lead)
    excerpt(version, lead, 0, 10, trust, believed)
    excerpt(version, lead, 5, 15, access)
    excerpt(version, lead, 20, 30, trust)
    excerpt(version, reviewer, 0, 10, believed)
    excerpt(other, lead, 0, 10, access)
    client = client_for(lead)

    def grid(measure):
        response = client.get(url_of("coding_cooccurrence", review), {"measure": measure})
        return [
            (n.code.name, [count for count, _ in cells]) for n, cells in response.context["rows"]
        ]

    # Disbelief has no excerpt, so it is left out. Diagonal: excerpts carrying the code.
    assert grid("both") == [
        ("Trust", [2, 1, 1]),
        ("Being believed", [1, 2, 1]),
        ("Access", [1, 1, 2]),
    ]
    assert grid("excerpt") == [
        ("Trust", [2, 1, 0]),
        ("Being believed", [1, 2, 0]),
        ("Access", [0, 0, 2]),
    ]
    assert grid("overlap") == [
        ("Trust", [2, 0, 1]),
        ("Being believed", [0, 2, 1]),
        ("Access", [1, 1, 2]),
    ]
    page = client.get(url_of("coding_cooccurrence", review)).content.decode()
    for text in [
        "<caption",
        '<th scope="col">Being believed</th>',
        '<td class="synth-diagonal">2<span class="synth-diagonal-label"> carrying</span></td>',
        "overlapping pairs of excerpts",
        "by the same coder in the same version of a document",
    ]:
        assert text in page, text


def test_cooccurrence_query_count_does_not_grow(client_for, queries_of, review, lead, studies,
                                                codebook):  # fmt: skip
    version = document(studies[0], lead)
    client = client_for(lead)
    url = url_of("coding_cooccurrence", review)
    make_excerpts(version, lead, 2, codebook["trust"])
    few = queries_of(client, url)
    make_excerpts(version, lead, 30, codebook["believed"], codebook["access"])
    # Session, user, membership, coding settings, researchers, excerpts, codebook.
    assert few == queries_of(client, url) == 7


# --------------------------------------------------------------------------- agreement


@pytest.fixture
def agreement_case(review, lead, reviewer, studies, codebook):
    """Lena codes [0, 10) and Rita [5, 15) as Trust, in a 100-character document."""
    version = document(studies[0], lead, text="x" * 100, title="Interview notes")
    excerpt(version, lead, 0, 10, codebook["trust"])
    excerpt(version, reviewer, 5, 15, codebook["trust"])
    return version


def figures(response):
    return [
        (node.code.name, f.n, f.both, f.only_a, f.only_b, f.neither)
        for node, f in response.context["results"]
    ]


def test_agreement_by_segment(client_for, review, lead, reviewer, agreement_case):
    response = client_for(lead).get(
        url_of("coding_agreement", review), {"document": agreement_case.document_id}
    )
    # Coded segments [0, 5) Lena only, [5, 10) both, [10, 15) Rita only.
    assert (response.context["coder_a"], response.context["coder_b"]) == (lead, reviewer)
    assert figures(response) == [("Trust", 3, 1, 1, 1, 0)]
    result = response.context["results"][0][1]
    assert result.percent_agreement == pytest.approx(100 / 3)
    # pe = (2/3)(2/3) + (1/3)(1/3) = 5/9; kappa = (1/3 - 5/9) / (4/9) = -0.5
    assert result.kappa == pytest.approx(-0.5)
    page = response.content.decode()
    for text in [
        "<dt>Unit</dt><dd>Coded segment: a stretch of text between consecutive excerpt",
        '<th scope="col">n (coded segments)</th>',
        '<th scope="col">Only A (Lena Lead)</th>',
        "<td>33.3%</td>",
        "<td>-0.500</td>",
        '<label for="id_coder_a">Coder A:</label>',
        "<legend>Unit</legend>",
    ]:
        assert text in page, text


def test_agreement_by_character_with_uncoded_text(
    client_for, review, lead, reviewer, agreement_case
):
    url = url_of("coding_agreement", review)
    query = {"document": agreement_case.document_id, "version": 1, "coder_a": lead.pk,
             "coder_b": reviewer.pk, "level": "character"}  # fmt: skip
    client = client_for(lead)
    response = client.get(url, query)
    assert figures(response) == [("Trust", 15, 5, 5, 5, 0)]
    assert response.context["unit_name"] == "coded character"
    response = client.get(url, {**query, "include_uncoded": "on"})
    assert figures(response) == [("Trust", 100, 5, 5, 5, 85)]
    # pe = 0.1 * 0.1 + 0.9 * 0.9 = 0.82; kappa = (0.9 - 0.82) / 0.18 = 4/9
    assert response.context["results"][0][1].kappa == pytest.approx(4 / 9)
    page = response.content.decode()
    assert "<dt>Unit</dt><dd>Character (Unicode code point).</dd>" in page
    assert '<th scope="col">n (characters)</th>' in page
    assert page.count('id="id_document"') == 1


def test_agreement_says_why_kappa_is_undefined(
    client_for, review, lead, reviewer, studies, codebook
):
    version = document(studies[0], lead, text="y" * 50)
    excerpt(version, lead, 0, 10, codebook["access"])
    excerpt(version, reviewer, 0, 10, codebook["access"])
    response = client_for(lead).get(
        url_of("coding_agreement", review), {"document": version.document_id}
    )
    assert figures(response) == [("Access", 1, 1, 0, 0, 0)]
    assert "Not defined: both coders gave the same single label to every unit" in (
        response.content.decode()
    )


def test_agreement_picks_a_version_and_refuses_the_same_coder_twice(
    client_for, review, lead, reviewer, studies, codebook
):
    version = document(studies[0], lead, text="z" * 50)
    excerpt(version, lead, 0, 10, codebook["access"])
    excerpt(version, reviewer, 5, 10, codebook["access"])
    revise_document(document=version.document, text="z" * 60, user=lead, note="More")
    client = client_for(lead)
    url = url_of("coding_agreement", review)
    response = client.get(url, {"document": version.document_id})
    # Version 2 has no coding yet: the comparison starts on the latest version two coded.
    assert response.context["version"].number == 1
    same_coder = {"coder_a": lead.pk, "coder_b": lead.pk, "level": "segment"}
    response = client.get(url, {"document": version.document_id, "version": 1, **same_coder})
    assert response.context["results"] is None
    assert "Choose a different coder from coder A." in response.content.decode()


def test_agreement_starts_with_two_people_who_coded_the_version(
    client_for, review, lead, reviewer, reviewer2, studies, codebook
):
    first = document(studies[0], lead, text="w" * 50)
    excerpt(first, lead, 0, 10, codebook["access"])
    second = revise_document(document=first.document, text="w" * 70, user=lead, note="More")
    excerpt(second, reviewer, 0, 10, codebook["access"])
    excerpt(second, reviewer2, 5, 10, codebook["access"])
    response = client_for(lead).get(
        url_of("coding_agreement", review), {"document": first.document_id}
    )
    # Lena sorts first among the document's coders but did not code version 2.
    assert [u.display_name for u in response.context["coders"]] == [
        "Lena Lead", "Ravi Reviewer", "Rita Reviewer",
    ]  # fmt: skip
    assert response.context["version"].number == 2
    assert (response.context["coder_a"], response.context["coder_b"]) == (reviewer2, reviewer)
    assert figures(response) == [("Access", 2, 1, 0, 1, 0)]


def test_agreement_needs_two_coders(client_for, review, lead, studies, codebook):
    version = document(studies[0], lead)
    excerpt(version, lead, 0, 10, codebook["access"])
    response = client_for(lead).get(
        url_of("coding_agreement", review), {"document": version.document_id}
    )
    assert "Only Lena Lead has coded" in response.content.decode()


# --------------------------------------------------------------------------- comparison


def test_lead_opens_and_closes_comparison(client_for, review, lead):
    client = client_for(lead)
    url = url_of("coding_comparison", review)
    response = client.post(url, {"open": "1", "next": url_of("coding_agreement", review)})
    assert response["Location"] == url_of("coding_agreement", review)
    config = coding_config(review)
    assert (config.comparison_open, config.comparison_opened_at is not None) == (True, True)
    response = client.post(url, {"open": "0", "next": "https://evil.example/"})
    assert response["Location"] == reverse("coding_home", args=[review.slug])
    config.refresh_from_db()
    assert (config.comparison_open, config.comparison_opened_at) == (False, None)


def test_comparison_switch_refuses_a_bad_value(client_for, review, lead):
    assert (
        client_for(lead).post(url_of("coding_comparison", review), {"open": "yes"}).status_code
        == 400
    )
    assert coding_config(review).comparison_open is False


@pytest.mark.parametrize(
    ("persona", "status"), [("reviewer", 403), ("advisory", 403), ("outsider", 404)]
)
def test_only_the_lead_opens_comparison(client_for, personas, review, persona, status):
    response = client_for(personas[persona]).post(
        url_of("coding_comparison", review), {"open": "1"}
    )
    assert response.status_code == status
    assert coding_config(review).comparison_open is False


def test_comparison_switch_is_post_only(client_for, review, lead):
    assert client_for(lead).get(url_of("coding_comparison", review)).status_code == 405
