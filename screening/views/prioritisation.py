"""The lead's AI prioritisation page: the title/abstract queue's order, every ranking (what a
methods section needs to describe it), the stopping guidance, the decisions to stop, and the
open records' relevance scores.

Lead only. Reviewers never open it: while screening is blind a score would tell them how the
team has been deciding, and stopping is the lead's decision. Nothing here excludes a record:
a decision to stop is logged with the evidence on screen (for the exports and the PRISMA
notes) and changes no record's status.
"""

import inspect
import json
import math

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from reviewapp.access import get_review_for, is_lead, is_researcher

from .. import ranking
from ..decisions import config_for
from ..models import Ranking, RecordStage, ScreeningConfig, Stage, StopDecision
from ..models.decisions import OPEN_STATUSES
from ..prisma import stop_note

RECENT_RANKINGS = 20
TOP_SCORES = 50
# The chart is a few hundred pixels wide: more points only make the page heavier.
CHART_POINTS = 300

TRAINING_FALLBACK = (
    "The model learns from the title/abstract decisions made so far: the outcome of every "
    "settled record (agreed, or resolved by an adjudicator) and the reviewers' individual "
    "votes. The training set counts the records it learnt from as includes and excludes."
)


def can_see_scores(membership, config):
    """Whether a member may see records' relevance scores: leads always, reviewers only when
    screening is not blind (a score reflects how the team has decided so far). `config` is
    the review's ScreeningConfig, or None before it exists (blind, the default)."""
    if is_lead(membership):
        return True
    return is_researcher(membership) and config is not None and not config.blind


def cached_config(review):
    """The ScreeningConfig fetched with the review (`related=["screening"]`), or None when
    the review has none yet: no query either way."""
    try:
        return review.screening
    except ScreeningConfig.DoesNotExist:
        return None


def training_explanation():
    """How reviewers' votes become the training set, in the model code's own words."""
    try:
        # Written alongside this page by another part of the team; until it lands, say it
        # plainly.
        from ..prioritisation.training import labels_from
    except ImportError:
        return TRAINING_FALLBACK
    return inspect.getdoc(labels_from) or TRAINING_FALLBACK


# --------------------------------------------------------------------------- figures


def _percent(value, digits=1):
    return None if value is None else f"{100 * value:.{digits}f}%"


def _plural(n, word):
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def _level(value):
    """95% for 0.95, 99.5% for 0.995."""
    return f"{100 * value:g}%"


def evidence_key(evidence):
    """What identifies the figures a lead saw: posted back with a decision to stop, so a
    decision is never logged with figures that changed after the page was drawn."""
    return f"{evidence['total']}:{evidence['screened']}:{evidence['includes_found']}"


def estimate_view(estimate):
    """The stopping estimate in words and formatted numbers."""
    alpha = 1 - estimate.confidence
    target, confidence = _level(estimate.target_recall), _level(estimate.confidence)
    p_value = f"{estimate.p_value:.3g}"
    if estimate.screened == 0:
        verdict = "No: nothing has been screened yet, so there is no evidence either way."
    elif estimate.can_stop:
        verdict = (
            f"Yes: p = {p_value} is below {alpha:.2g}, so the test rejects “recall is below "
            f"{target}” at {confidence} confidence. By this test the target recall is met."
        )
    else:
        verdict = (
            f"No: p = {p_value} is not below {alpha:.2g}, so the test does not yet show that "
            f"{target} of the relevant records have been found."
        )
    return {
        "estimate": estimate,
        "target": target,
        "confidence": confidence,
        "p_value": p_value,
        "verdict": verdict,
        "estimated_recall": _percent(estimate.estimated_recall),
        "recall_low": _percent(estimate.recall_low),
        "recall_high": _percent(estimate.recall_high),
    }


def downsample(curve, limit=CHART_POINTS):
    """At most `limit` points of `curve`, evenly spread, keeping the first and the last."""
    if len(curve) <= limit:
        return list(curve)
    step = (len(curve) - 1) / (limit - 1)
    return [curve[round(i * step)] for i in range(limit)]


def ticks(top, count=5):
    """Whole-number tick values from 0 to at least `top`, in steps of 1, 2 or 5 times a
    power of ten, about `count` steps in all."""
    if top <= 0:
        return [0, 1]
    raw = top / count
    power = 10 ** math.floor(math.log10(raw))
    step = max(1, int(next(m * power for m in (1, 2, 5, 10) if m * power >= raw)))
    return list(range(0, math.ceil(top / step) * step + 1, step))


CHART_W, CHART_H = 640, 340
PLOT_LEFT, PLOT_RIGHT, PLOT_TOP, PLOT_BOTTOM = 70, 620, 20, 280


def _f(value):
    """A coordinate: one decimal at most, as text."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def curve_chart(curve):
    """What the template needs to draw includes found against records screened as an SVG:
    the polyline's points, the axes' ticks, and the words for its accessible name; None
    while nothing has been screened."""
    if not curve:
        return None
    screened, found = curve[-1]
    x_ticks, y_ticks = ticks(screened), ticks(found)
    x_max, y_max = x_ticks[-1], y_ticks[-1]

    def x(value):
        return PLOT_LEFT + (PLOT_RIGHT - PLOT_LEFT) * value / x_max

    def y(value):
        return PLOT_BOTTOM - (PLOT_BOTTOM - PLOT_TOP) * value / y_max

    # The origin leads the line; the sample leaves room for it within the limit.
    points = [(0, 0), *downsample(curve, CHART_POINTS - 1)]
    summary = f"{_plural(found, 'include')} found in {_plural(screened, 'record')} screened"
    if found:
        last_include = next(n for n, includes in curve if includes == found)
        summary += f"; the most recent include was record {last_include:,} screened"
    # Coordinates are text here, so the template's number localisation cannot touch them.
    return {
        "view_box": f"0 0 {CHART_W} {CHART_H}",
        "left": _f(PLOT_LEFT),
        "right": _f(PLOT_RIGHT),
        "top": _f(PLOT_TOP),
        "bottom": _f(PLOT_BOTTOM),
        "x_tick_end": _f(PLOT_BOTTOM + 5),
        "x_label_y": _f(PLOT_BOTTOM + 20),
        "x_title": {"x": _f((PLOT_LEFT + PLOT_RIGHT) / 2), "y": _f(PLOT_BOTTOM + 46)},
        "y_tick_end": _f(PLOT_LEFT - 5),
        "y_label_x": _f(PLOT_LEFT - 9),
        "y_title": {"x": _f(18), "y": _f((PLOT_TOP + PLOT_BOTTOM) / 2)},
        "points": " ".join(f"{_f(x(a))},{_f(y(b))}" for a, b in points),
        "x_ticks": [{"at": _f(x(v)), "label": f"{v:,}"} for v in x_ticks],
        "y_ticks": [{"at": _f(y(v)), "label": f"{v:,}"} for v in y_ticks],
        "label": f"Chart of includes found against records screened: {summary}.",
        "description": f"A line rising from 0 as records are screened: {summary}. A line that "
        "flattens out means few includes are turning up. The table after the chart gives the "
        "same figures at every tenth of the records screened.",
    }


def curve_table(curve):
    """The chart's figures at every tenth of the records screened (fewer rows when fewer
    than ten records were screened)."""
    rows, seen = [], set()
    n = len(curve)
    found = curve[-1][1] if curve else 0
    for tenth in range(1, 11):
        k = max(1, round(n * tenth / 10)) if n else 0
        if not k or k in seen:
            continue
        seen.add(k)
        includes = curve[k - 1][1]
        rows.append({
            "screened": k,
            "share_screened": _percent(k / n, 0),
            "includes": includes,
            "share_found": _percent(includes / found, 0) if found else None,
        })  # fmt: skip
    return rows


def decision_view(decision):
    """A logged decision to stop with the key figures of the evidence it was taken on."""
    evidence = decision.evidence or {}
    estimate = evidence.get("estimate") or {}
    confidence = estimate.get("confidence")
    return {
        "decision": decision,
        "screened": evidence.get("screened"),
        "total": evidence.get("total"),
        "includes_found": evidence.get("includes_found"),
        "consecutive_excludes": evidence.get("consecutive_excludes"),
        "since_last_include": evidence.get("since_last_include"),
        "estimated_recall": _percent(estimate.get("estimated_recall")),
        "recall_low": _percent(estimate.get("recall_low")),
        "confidence": _level(confidence) if confidence else None,
        "p_value": None if estimate.get("p_value") is None else f"{estimate['p_value']:.3g}",
        "can_stop": estimate.get("can_stop"),
        "prisma_note": None if decision.withdrawn_at else stop_note(decision),
    }


# --------------------------------------------------------------------------- the page


class StopForm(forms.Form):
    note = forms.CharField(
        label="Why you are stopping",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Kept in the log below with the figures shown. For example: the stopping "
        "test supports it, and a random sample of 300 of the records not yet screened found "
        "no include.",
        error_messages={"required": "Say why you are stopping."},
    )
    confirm = forms.BooleanField(
        label="I understand records not yet screened will not be screened",
        error_messages={"required": "Tick the box to confirm that you understand."},
    )


def _page(request, review, membership, stop_form, evidence=None, status=200):
    config = config_for(review)
    evidence = evidence or ranking.stopping_evidence(review, Stage.TA)
    rankings = list(Ranking.objects.filter(review=review, stage=Stage.TA)[:RECENT_RANKINGS])
    latest = ranking.latest_ranking(review, Stage.TA)
    ranked = Ranking.objects.filter(
        review=review, stage=Stage.TA, status=Ranking.Status.DONE
    ).exists()
    decisions = [
        decision_view(decision)
        for decision in StopDecision.objects.filter(review=review, stage=Stage.TA).select_related(
            "decided_by"
        )
    ]
    active = next((d for d in decisions if not d["decision"].withdrawn_at), None)
    top = (
        RecordStage.objects.filter(review=review, stage=Stage.TA, status__in=OPEN_STATUSES,
                                   score__isnull=False)
        .select_related("record")
        .only("id", "score", "status", "record_id", "record__id", "record__title")
        .order_by("-score", "id")[:TOP_SCORES]
    )  # fmt: skip
    context = {
        "review": review,
        "membership": membership,
        "config": config,
        "priority": config.order == ScreeningConfig.Order.PRIORITY,
        "ranked": ranked,
        "latest": latest,
        "latest_settings": [
            (key, _setting_text(value)) for key, value in sorted((latest.settings or {}).items())
        ]
        if latest
        else [],
        "training_explanation": training_explanation(),
        "rankings": rankings,
        "evidence": evidence,
        "evidence_key": evidence_key(evidence),
        "unscreened": evidence["total"] - evidence["screened"],
        "estimate": estimate_view(evidence["estimate"]),
        "chart": curve_chart(evidence["curve"]),
        "curve_rows": curve_table(evidence["curve"]),
        "stop_form": stop_form,
        "error_forms": [stop_form] if stop_form.errors else [],
        "decisions": decisions,
        "active_decision": active,
        "top_scores": list(top),
        "top_limit": TOP_SCORES,
    }
    return render(request, "screening/prioritisation/page.html", context, status=status)


def _setting_text(value):
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True)


def _url(review, anchor):
    return f"{reverse('prioritisation', args=[review.slug])}#{anchor}"


@require_GET
def prioritisation(request, slug):
    review, membership = get_review_for(request, slug, need=is_lead, related=["screening"])
    return _page(request, review, membership, StopForm())


@require_POST
def rerank(request, slug):
    review, _ = get_review_for(request, slug, need=is_lead)
    if ranking.request_ranking(review.pk, Stage.TA) is None:
        messages.info(
            request, "A ranking is already waiting to run; it will use every decision made so far."
        )
    else:
        messages.success(request, "Re-ranking asked for: it runs in a few seconds. Reload this "
                                  "page to see it in the list of rankings.")  # fmt: skip
    return redirect(_url(review, "rankings-heading"))


@require_POST
def stop(request, slug):
    review, membership = get_review_for(request, slug, need=is_lead, related=["screening"])
    form = StopForm(request.POST)
    evidence = ranking.stopping_evidence(review, Stage.TA)
    if form.is_valid():
        active = StopDecision.objects.filter(review=review, stage=Stage.TA, withdrawn_at=None)
        if active.exists():
            form.add_error(None, "Screening has already been stopped. Withdraw that decision "
                                 "before logging another.")  # fmt: skip
        elif request.POST.get("shown") != evidence_key(evidence):
            form.add_error(
                None,
                "The figures changed while the page was open (more records were settled). "
                "Read the updated figures below, then decide again.",
            )
    if not form.is_valid():
        return _page(request, review, membership, form, evidence=evidence, status=400)
    ranking.record_stop(review, request.user, form.cleaned_data["note"], evidence, Stage.TA)
    messages.success(
        request,
        "Your decision to stop screening is logged with the figures shown. No record was "
        "excluded; the PRISMA notes and the exports now report the early stop.",
    )
    return redirect(_url(review, "decisions-heading"))


@require_POST
def withdraw(request, slug, decision_id):
    review, _ = get_review_for(request, slug, need=is_lead)
    decision = get_object_or_404(StopDecision, pk=decision_id, review=review)
    # A claim, so two leads withdrawing at once leave the first time in place.
    withdrawn = StopDecision.objects.filter(pk=decision.pk, withdrawn_at=None).update(
        withdrawn_at=timezone.now()
    )
    if withdrawn:
        messages.success(request, "The decision to stop is withdrawn; the PRISMA notes no "
                                  "longer report an early stop. It stays in the log.")  # fmt: skip
    else:
        messages.info(request, "That decision had already been withdrawn.")
    return redirect(_url(review, "decisions-heading"))


urlpatterns = [
    path("screening/prioritisation/", prioritisation, name="prioritisation"),
    path("screening/prioritisation/rerank/", rerank, name="prioritisation_rerank"),
    path("screening/prioritisation/stop/", stop, name="prioritisation_stop"),
    path("screening/prioritisation/stop/<int:decision_id>/withdraw/", withdraw,
         name="prioritisation_withdraw"),
]  # fmt: skip
