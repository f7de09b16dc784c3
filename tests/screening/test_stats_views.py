"""The agreement statistics page and its CSV download."""

import pytest
from django.urls import reverse

from screening import agreement
from screening.decisions import config_for, record_decision
from screening.models import Decision, Record
from screening.settings_services import set_exclusion_reasons

from .factories import import_file, ris_bytes, work

pytestmark = pytest.mark.django_db

TA_CATEGORIES = ["exclude", "include", "maybe"]


@pytest.fixture
def url(review):
    return reverse("agreement", args=[review.slug])


def make_records(review, lead, n):
    import_file(review, ris_bytes([work(i) for i in range(1, n + 1)]), user=lead)
    return list(Record.objects.filter(review=review).order_by("id"))


@pytest.fixture
def records(review, lead):
    return make_records(review, lead, 6)


def decide(records, reviewer, values, stage="ta", reason=None):
    for record, value in zip(records, values, strict=False):
        if value:
            record_decision(record=record, stage=stage, reviewer=reviewer, value=value,
                            reason=reason if value == "exclude" else None)  # fmt: skip


def current(review, stage):
    return list(
        Decision.objects.filter(review=review, stage=stage).values_list(
            "record_id", "reviewer_id", "value"
        )
    )


def stage_of(response, stage):
    return next(s for s in response.context["stages"] if s["stage"] == stage)


# --------------------------------------------------------------------------- who may


@pytest.mark.parametrize(
    ("persona", "status"),
    [("lead", 200), ("reviewer", 200), ("advisory", 403), ("outsider", 404)],
)
@pytest.mark.parametrize("query", ["", "?format=csv"])
def test_who_may_see_agreement(client_for, personas, url, persona, status, query):
    response = client_for(personas[persona]).get(url + query)
    assert response.status_code == status
    if status == 200:
        expected = "text/csv; charset=utf-8" if query else "text/html; charset=utf-8"
        assert response["Content-Type"] == expected


def test_anonymous_visitors_are_sent_to_sign_in(client_for, review, url):
    response = client_for(None).get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_wrong_method(client_for, lead, url, method):
    assert getattr(client_for(lead), method)(url).status_code == 405


# --------------------------------------------------------------------------- figures


def test_two_reviewers_figures_equal_the_agreement_module(
    client_for, review, lead, reviewer, reviewer2, records, url
):
    # Rita: include, include, exclude, maybe, exclude, (none)
    # Ravi: include, exclude, exclude, maybe, (none), include
    decide(records, reviewer, ["include", "include", "exclude", "maybe", "exclude"])
    decide(records, reviewer2, ["include", "exclude", "exclude", "maybe", None, "include"])
    response = client_for(lead).get(url)
    ta = stage_of(response, "ta")
    decisions = current(review, "ta")
    expected = agreement.stage_summary(decisions, TA_CATEGORIES)
    assert [p.as_dict() for p in ta["summary"]["pairs"]] == [p.as_dict() for p in expected["pairs"]]
    assert ta["summary"]["pooled"].as_dict() == expected["pooled"].as_dict()
    assert ta["summary"]["alpha"] is None
    # By hand: 4 records both screened, 3 agreed; pe = (1*2 + 2*1 + 1*1) / 16 = 5/16 with
    # maybe as its own category, so kappa = (3/4 - 5/16) / (11/16) = 7/11.
    pair = ta["summary"]["pairs"][0]
    assert (pair.n, pair.agreed, pair.observed, pair.expected) == (4, 3, 0.75, 0.3125)
    assert pair.kappa == pytest.approx(7 / 11)
    assert (pair.rater_a, pair.rater_b) == (reviewer.pk, reviewer2.pk)
    page = response.content.decode()
    for text in [
        '<td data-label="Records both screened (n)">4</td>',
        '<td data-label="Percent agreement">75.0%</td>',
        '<td data-label="po">0.750</td>',
        '<td data-label="pe">0.313</td>',
        '<td data-label="Cohen\'s kappa">0.636</td>',
        '<th scope="row">Rita Reviewer and Ravi Reviewer</th>',
        '<th scope="col"><span class="rater">Ravi Reviewer: </span>Include</th>',
        '<th scope="row"><span class="rater">Rita Reviewer: </span>Maybe</th>',
        "Rita Reviewer (rows) against Ravi Reviewer (columns). 4 records both screened, 3 agreed.",
        "“maybe” is its own category",
    ]:
        assert text in page, text
    assert reviewer.email not in page and reviewer2.email not in page


def test_confusion_table_cells(client_for, review, lead, reviewer, reviewer2, records, url):
    decide(records, reviewer, ["include", "include", "exclude", "maybe"])
    decide(records, reviewer2, ["include", "exclude", "exclude", "include"])
    pair = stage_of(client_for(lead).get(url), "ta")["pairs"][0]
    # Rows: Rita's exclude, include, maybe; columns: Ravi's; last cell: Rita's total.
    assert [([c["count"] for c in row["cells"]], row["total"]) for row in pair["rows"]] == [
        ([1, 0, 0], 1),
        ([1, 1, 0], 2),
        ([0, 1, 0], 1),
    ]
    assert pair["column_totals"] == [2, 2, 0]
    assert [[c["agreed"] for c in row["cells"]] for row in pair["rows"]][1] == [False, True, False]


def test_three_reviewers_show_alpha_equal_to_the_agreement_module(
    client_for, review, lead, reviewer, reviewer2, records, url
):
    config = config_for(review)
    config.reviewers_per_record = 3
    config.save(update_fields=["reviewers_per_record"])
    decide(records, lead, ["include", "exclude", "exclude", "maybe", "include", "exclude"])
    decide(records, reviewer, ["include", "include", "exclude", "maybe", "exclude", None])
    decide(records, reviewer2, ["include", "exclude", "exclude", "include", None, "exclude"])
    response = client_for(reviewer).get(url)
    ta = stage_of(response, "ta")
    decisions = current(review, "ta")
    assert len(decisions) == 16
    assert [p.as_dict() for p in ta["summary"]["pairs"]] == [
        p.as_dict() for p in agreement.pairwise(decisions, TA_CATEGORIES)
    ]
    assert ta["summary"]["pooled"].as_dict() == (
        agreement.pooled_agreement(decisions, TA_CATEGORIES).as_dict()
    )
    alpha = agreement.krippendorff_alpha(decisions, categories=TA_CATEGORIES)
    assert ta["summary"]["alpha"].as_dict() == alpha.as_dict()
    assert len(ta["pairs"]) == 3
    page = response.content.decode()
    assert "Krippendorff's alpha (3 reviewers)" in page
    assert f"<dd>{alpha.alpha:.3f}</dd>" in page
    assert f"<dt>Decisions on those records</dt><dd>{alpha.n_values}</dd>" in page


def test_full_text_compares_include_and_exclude_not_reasons(
    client_for, review, lead, reviewer, reviewer2, records, url
):
    reasons = set_exclusion_reasons(review, ["Not in English", "Not peer reviewed"]).reasons
    decide(records[:4], reviewer, ["include"] * 4)
    decide(records[:4], reviewer2, ["include"] * 4)
    decide(records[:3], reviewer, ["exclude", "exclude", "include"], "ft", reasons[0])
    decide(records[:2], reviewer2, ["exclude"], "ft", reasons[0])
    decide(records[1:3], reviewer2, ["exclude", "exclude"], "ft", reasons[1])
    response = client_for(lead).get(url)
    ft = stage_of(response, "ft")
    pair = ft["summary"]["pairs"][0]
    # Record 1: excludes for different reasons still agree here.
    assert (pair.n, pair.agreed, pair.categories) == (3, 2, ["exclude", "include"])
    assert (
        pair.as_dict()
        == agreement.pairwise(current(review, "ft"), ["exclude", "include"])[0].as_dict()
    )
    assert "the exclusion reasons are not compared" in response.content.decode()


def test_merged_duplicates_do_not_count(client_for, review, lead, reviewer, url):
    from screening import services

    a = work(1, doi="")
    import_file(review, ris_bytes([a, work(1, doi="", id="late", year=a["year"] + 2)]), user=lead)
    late = Record.objects.get(source_id="late")
    kept = Record.objects.exclude(pk=late.pk).get()
    record_decision(record=late, stage="ta", reviewer=reviewer, value="include")
    record_decision(record=kept, stage="ta", reviewer=reviewer, value="exclude")
    services.decide_pair(pair=review.duplicate_pairs.get(), user=lead, is_duplicate=True)
    ta = stage_of(client_for(lead).get(url), "ta")
    assert (ta["summary"]["n_items"], ta["summary"]["n_decisions"]) == (1, 1)


def test_no_decisions_yet(client_for, lead, url):
    response = client_for(lead).get(url)
    assert response.content.decode().count("No decisions at this stage yet.") == 2


def test_one_reviewer_only_has_no_pair(client_for, lead, reviewer, records, url):
    decide(records, reviewer, ["include", "exclude"])
    response = client_for(lead).get(url)
    page = response.content.decode()
    assert "No record has decisions from two reviewers yet" in page
    assert "No record was screened by both, so agreement is undefined." in page
    pooled = stage_of(response, "ta")["summary"]["pooled"]
    assert (pooled.n, pooled.kappa, pooled.note) == (0, None, agreement.NOTE_NO_OVERLAP)


def test_undefined_kappa_shows_the_note(client_for, lead, reviewer, reviewer2, records, url):
    decide(records, reviewer, ["exclude"] * 3)
    decide(records, reviewer2, ["exclude"] * 3)
    page = client_for(lead).get(url).content.decode()
    assert '<td data-label="Cohen\'s kappa">undefined</td>' in page
    assert "Every decision fell in one and the same category" in page
    assert '<td data-label="Percent agreement">100.0%</td>' in page


# --------------------------------------------------------------------------- CSV


def test_csv_has_one_row_per_pair_and_pooled_per_stage(
    client_for, review, lead, reviewer, reviewer2, records, url
):
    reviewer.name = "=HYPERLINK(1)"
    reviewer.save(update_fields=["name"])
    decide(records, reviewer, ["include", "include", "exclude", "maybe", "exclude"])
    decide(records, reviewer2, ["include", "exclude", "exclude", "include", "include"])
    response = client_for(lead).get(url + "?format=csv")
    assert response["Content-Disposition"] == (
        'attachment; filename="harm-screening-agreement.csv"'
    )
    # Rater ids order the pair: the reviewer fixture's user was created first.
    # 5 records, 2 agreed; Rita exc 2 inc 2 maybe 1, Ravi exc 2 inc 3:
    # pe = (2*2 + 2*3) / 25 = 0.4, kappa = (0.4 - 0.4) / 0.6 = 0.
    assert response.content.decode() == (
        "stage,rater_a,rater_b,n,agreed,percent_agreement,kappa,observed,expected,note\r\n"
        "Title and abstract,'=HYPERLINK(1),Ravi Reviewer,5,2,40.0,0.0000,0.4000,0.4000,\r\n"
        "Title and abstract,All pairs (pooled),,5,2,40.0,0.0000,0.4000,0.4000,\r\n"
        "Full text,All pairs (pooled),,0,0,,,,,"
        '"No record was screened by both, so agreement is undefined."\r\n'
    )


def test_csv_keeps_negative_numbers_as_numbers(
    client_for, review, lead, reviewer, reviewer2, records, url
):
    decide(records, reviewer, ["include", "exclude"])
    decide(records, reviewer2, ["exclude", "include"])
    lines = client_for(lead).get(url + "?format=csv").content.decode().splitlines()
    # Two records, no agreement: po = 0, pe = 0.5, kappa = -1.
    assert lines[1] == (
        "Title and abstract,Rita Reviewer,Ravi Reviewer,2,0,0.0,-1.0000,0.0000,0.5000,"
    )


# --------------------------------------------------------------------------- queries


# 2 queries are sign-in bookkeeping (session, user); the page makes 4:
# membership, each stage's decisions, and the reviewers' names.
@pytest.mark.parametrize("query", ["", "?format=csv"])
def test_query_count_does_not_grow_with_decisions(
    client_for, review, lead, reviewer, reviewer2, url, query, django_assert_num_queries
):
    records = make_records(review, lead, 24)
    client = client_for(lead)
    decide(records[:1], reviewer, ["include"])
    decide(records[:1], reviewer2, ["include"])
    client.get(url + query)
    with django_assert_num_queries(6):
        assert client.get(url + query).status_code == 200

    config = config_for(review)
    config.reviewers_per_record = 3
    config.save(update_fields=["reviewers_per_record"])
    values = ["include", "exclude", "maybe"]
    for n, person in enumerate((reviewer, reviewer2, lead)):
        decide(records[1:], person, [values[(i * (n + 1)) % 3] for i in range(23)])
    ft_ready = [r for r in records if r.stages.filter(stage="ft").exists()]
    assert len(ft_ready) == 9
    for person in (reviewer, reviewer2):
        decide(ft_ready, person, ["include"] * len(ft_ready), "ft")
    with django_assert_num_queries(6):
        assert client.get(url + query).status_code == 200
