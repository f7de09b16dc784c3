"""Agreement between reviewers, per screening stage, with the counts behind every figure.

The figures come from screening.agreement (Cohen's kappa per pair, the pooled kappa with its
default method, Krippendorff's alpha when more than two reviewers screened); this module only
gathers the decisions and names the reviewers. `?format=csv` downloads the same figures.
"""

import csv

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from reviewapp.access import get_review_for, is_researcher
from reviewapp.models import User

from .. import agreement
from ..models import Decision, DecisionValue, Stage

# Categories per stage, so every table has the same rows and columns whatever was decided.
# "maybe" is its own category at title/abstract; at full text the categories are include
# and exclude only (the exclusion reason is not compared).
CATEGORIES = {
    Stage.TA: ("exclude", "include", "maybe"),
    Stage.FT: ("exclude", "include"),
}

NOTES = {
    agreement.NOTE_NO_OVERLAP: "No record was screened by both, so agreement is undefined.",
    agreement.NOTE_ONE_CATEGORY: "Every decision fell in one and the same category, so "
    "agreement expected by chance is 100% and kappa is undefined.",
    agreement.NOTE_NO_PAIRABLE: "No record has two or more decisions, so alpha is undefined.",
    agreement.NOTE_ALPHA_ONE_CATEGORY: "Every decision fell in one category, so no "
    "disagreement was possible and alpha is undefined.",
}

POOLED_LABEL = "All pairs (pooled)"
CSV_HEADER = ["stage", "rater_a", "rater_b", "n", "agreed", "percent_agreement", "kappa",
              "observed", "expected", "note"]  # fmt: skip
# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def plain_note(note):
    return NOTES.get(note, note)


def stage_decisions(review, stage):
    """(record_id, reviewer_id, value) of the current decisions on the review's kept records
    (not merged duplicates) at `stage`: one query."""
    return list(
        Decision.objects.filter(review=review, stage=stage, record__duplicate_of__isnull=True)
        .order_by()
        .values_list("record_id", "reviewer_id", "value")
    )


def agreement_by_stage(review):
    """[{"stage", "label", "summary" (agreement.stage_summary), "names"}] for TA and FT, plus
    reviewer names: three queries whatever the number of decisions."""
    stages = []
    for stage in (Stage.TA, Stage.FT):
        summary = agreement.stage_summary(stage_decisions(review, stage), CATEGORIES[stage])
        stages.append({"stage": stage, "label": stage.label, "summary": summary})
    rater_ids = {rater for entry in stages for rater in entry["summary"]["raters"]}
    users = User.objects.filter(pk__in=rater_ids).only("pk", "name", "email")
    names = {user.pk: user.display_name for user in users}
    for entry in stages:
        entry["names"] = names
    return stages


def _pair_view(pair, names, labels):
    """A PairAgreement laid out for the template: names, figures and the confusion table,
    whose headers name the reviewer and the category ("Rita Reviewer: Include")."""
    name_a, name_b = names.get(pair.rater_a, "?"), names.get(pair.rater_b, "?")
    cats = pair.categories
    rows = [
        {
            "header": {"name": name_a, "label": labels[a]},
            "cells": [{"count": pair.matrix[(a, b)], "agreed": a == b} for b in cats],
            "total": pair.marginals_a[a],
        }
        for a in cats
    ]
    return {
        "result": pair,
        "name_a": name_a,
        "name_b": name_b,
        "percent": None if pair.percent_agreement is None else 100 * pair.percent_agreement,
        "note": plain_note(pair.note),
        "columns": [{"name": name_b, "label": labels[b]} for b in cats],
        "rows": rows,
        "column_totals": [pair.marginals_b[b] for b in cats],
        "row_total_header": {"name": name_a, "label": "Total"},
        "column_total_header": {"name": name_b, "label": "Total"},
    }


def _alpha_view(alpha, labels):
    if alpha is None:
        return None
    cats = alpha.categories
    return {
        "result": alpha,
        "note": plain_note(alpha.note),
        "columns": [labels[k] for k in cats],
        "rows": [
            {"header": labels[c], "cells": [alpha.coincidence[(c, k)] for k in cats],
             "total": alpha.value_counts[c]}
            for c in cats
        ],
    }  # fmt: skip


def _stage_view(entry):
    summary, names = entry["summary"], entry["names"]
    labels = {value: DecisionValue(value).label for value in CATEGORIES[entry["stage"]]}
    pooled = summary["pooled"]
    return {
        "stage": entry["stage"],
        "label": entry["label"],
        "summary": summary,
        "raters": [names.get(rater, "?") for rater in summary["raters"]],
        "categories": [labels[c] for c in CATEGORIES[entry["stage"]]],
        "pairs": [_pair_view(pair, names, labels) for pair in summary["pairs"]],
        "pooled": {
            "result": pooled,
            "percent": None if pooled.percent_agreement is None else 100 * pooled.percent_agreement,
            "note": plain_note(pooled.note),
        },
        "alpha": _alpha_view(summary["alpha"], labels),
    }


def _cell(value):
    """Text for a CSV cell a spreadsheet will not run as a formula."""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def _number(value, digits):
    return "" if value is None else f"{value:.{digits}f}"


def _csv_row(stage_label, rater_a, rater_b, result, note):
    percent = None if result.percent_agreement is None else 100 * result.percent_agreement
    return [
        _cell(stage_label), _cell(rater_a), _cell(rater_b), result.n, result.agreed,
        _number(percent, 1), _number(result.kappa, 4), _number(result.observed, 4),
        _number(result.expected, 4), _cell(note),
    ]  # fmt: skip


def agreement_csv(review, stages):
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{review.slug}-screening-agreement.csv"'
    )
    writer = csv.writer(response)
    writer.writerow(CSV_HEADER)
    for entry in stages:
        names = entry["names"]
        for pair in entry["summary"]["pairs"]:
            writer.writerow(
                _csv_row(entry["label"], names.get(pair.rater_a, "?"),
                         names.get(pair.rater_b, "?"), pair, plain_note(pair.note))
            )  # fmt: skip
        pooled = entry["summary"]["pooled"]
        writer.writerow(_csv_row(entry["label"], POOLED_LABEL, "", pooled, plain_note(pooled.note)))
    return response


@require_GET
def agreement_page(request, slug):
    review, membership = get_review_for(request, slug, need=is_researcher)
    stages = agreement_by_stage(review)
    if request.GET.get("format") == "csv":
        return agreement_csv(review, stages)
    return render(
        request, "screening/stats/agreement.html",
        {"review": review, "membership": membership,
         "stages": [_stage_view(entry) for entry in stages]},
    )  # fmt: skip


urlpatterns = [
    path("screening/agreement/", agreement_page, name="agreement"),
]
