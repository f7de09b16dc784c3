"""Conflicts (both stages) and the records still waiting for another reviewer.

Only leads and the adjudicators a lead names see conflicts: the page shows every reviewer's
decision side by side, which blind screening hides from everyone else until a record is
settled. The awaiting list is open to all researchers, with names for leads only.
"""

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Exists, OuterRef, Prefetch, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_GET, require_http_methods

from reviewapp.access import get_review_for, is_lead, is_researcher, posted

from ..access import can_adjudicate, get_record_for, require
from ..decisions import DecisionError, config_for, resolve_conflict
from ..forms import IncludeExcludeForm
from ..models import Decision, RecordStage, Resolution, Stage
from ..models.decisions import StageStatus
from .fulltext import doi_url

PAGE_SIZE = 50
NOT_ADJUDICATOR = "Only the lead, or a reviewer the lead names as adjudicator, resolves conflicts."


def _stage_or_404(stage):
    if stage not in Stage.values:
        raise Http404("No such stage.")
    return stage


def _stage_filter(request):
    stage = request.GET.get("stage", "")
    return stage if stage in Stage.values else ""


def _stage_counts(review, status):
    counts = RecordStage.objects.filter(review=review, status=status).aggregate(
        ta=Count("id", filter=Q(stage=Stage.TA)), ft=Count("id", filter=Q(stage=Stage.FT))
    )
    counts["all"] = counts["ta"] + counts["ft"]
    return counts


def _decisions_prefetch():
    """Every decision of each row's record, oldest first, with who made it and why."""
    return Prefetch(
        "record__decisions",
        queryset=Decision.objects.select_related("reviewer", "reason").order_by("created_at", "id"),
    )


def _of_stage(row):
    return [d for d in row.record.decisions.all() if d.stage == row.stage]


@require_GET
def conflicts(request, slug):
    review, membership = get_review_for(request, slug, need=is_researcher)
    config = config_for(review)
    require(can_adjudicate(membership, config), NOT_ADJUDICATOR)
    stage = _stage_filter(request)
    rows = (
        RecordStage.objects.filter(review=review, status=StageStatus.CONFLICT)
        .select_related("record")
        .prefetch_related(_decisions_prefetch())
        .order_by("updated_at", "id")
    )
    if stage:
        rows = rows.filter(stage=stage)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    items = [(row, _of_stage(row)) for row in page.object_list]
    return render(
        request, "screening/conflicts/list.html",
        {"review": review, "membership": membership, "page": page, "items": items,
         "stage": stage, "counts": _stage_counts(review, StageStatus.CONFLICT),
         "adjudicator": True,
         "querystring": f"stage={stage}" if stage else ""},
    )  # fmt: skip


class ResolutionForm(IncludeExcludeForm):
    value_label = "Resolution"
    reason_message = "Choose the exclusion reason: it is required at full text."

    note = forms.CharField(
        label="Why",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Recorded with your name, for the team and the review's audit trail.",
    )

    def __init__(self, *args, review, stage, **kwargs):
        self.stage = stage
        super().__init__(*args, review=review, **kwargs)
        if stage == Stage.FT:
            self.fields["reason"].help_text = "Required to exclude at full text."

    def reason_required(self):
        return self.stage == Stage.FT


def next_conflict(review, after):
    """The conflict to settle after `after` (a RecordStage): same stage first, oldest first."""
    rows = (
        RecordStage.objects.filter(review=review, status=StageStatus.CONFLICT)
        .exclude(pk=after.pk)
        .order_by("updated_at", "id")
    )
    return rows.filter(stage=after.stage).first() or rows.first()


@require_http_methods(["GET", "POST"])
def conflict_resolve(request, slug, stage, record_id):
    review, membership, record = get_record_for(request, slug, record_id)
    stage = _stage_or_404(stage)
    config = config_for(review)
    require(can_adjudicate(membership, config), NOT_ADJUDICATOR)
    row = get_object_or_404(RecordStage, record=record, stage=stage)
    form = ResolutionForm(posted(request), review=review, stage=stage)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            status = resolve_conflict(
                record=record, stage=stage, user=request.user, value=data["value"],
                reason=data["reason"], note=data["note"],
            )  # fmt: skip
        except DecisionError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                f"Conflict resolved: record #{record.pk} is now "
                f"“{StageStatus(status).label.lower()}”.",
            )
            following = next_conflict(review, row)
            if following is None:
                return redirect("conflicts", slug=review.slug)
            return redirect(
                "conflict_resolve", slug=review.slug, stage=following.stage,
                record_id=following.record_id,
            )  # fmt: skip
        row.refresh_from_db()
    decisions = list(
        Decision.objects.filter(record=record, stage=stage)
        .select_related("reviewer", "reason")
        .order_by("created_at", "id")
    )
    resolution = (
        Resolution.objects.filter(record=record, stage=stage)
        .select_related("decided_by", "reason")
        .first()
    )
    full_text = getattr(record, "full_text", None) if stage == Stage.FT else None
    return render(
        request, "screening/conflicts/resolve.html",
        {"review": review, "membership": membership, "record": record, "row": row,
         "stage": stage, "stage_label": Stage(stage).label, "decisions": decisions,
         "doi_url": doi_url(record),
         "resolution": resolution, "full_text": full_text, "form": form,
         "is_open": row.status == StageStatus.CONFLICT, "adjudicator": True,
         "decided_it": any(d.reviewer_id == request.user.pk for d in decisions)},
        status=400 if form.errors else 200,
    )  # fmt: skip


@require_GET
def awaiting(request, slug):
    review, membership = get_review_for(request, slug, need=is_researcher)
    config = config_for(review)
    # Blind screening: a reviewer learns that a record awaits another reviewer, never who
    # decided it (let alone what); leads see who, so they can chase a stalled record.
    show_names = is_lead(membership) or not config.blind
    stage = _stage_filter(request)
    mine = Decision.objects.filter(
        record_id=OuterRef("record_id"), stage=OuterRef("stage"), reviewer=request.user
    )
    rows = (
        RecordStage.objects.filter(review=review, status=StageStatus.AWAITING_MORE)
        .select_related("record")
        .annotate(decided_by_me=Exists(mine))
        .order_by("updated_at", "id")
    )
    if stage:
        rows = rows.filter(stage=stage)
    if show_names:
        rows = rows.prefetch_related(_decisions_prefetch())
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    items = [(row, _of_stage(row) if show_names else None) for row in page.object_list]
    return render(
        request, "screening/conflicts/awaiting.html",
        {"review": review, "membership": membership, "page": page, "items": items,
         "stage": stage, "show_names": show_names, "needed": config.reviewers_per_record,
         "adjudicator": can_adjudicate(membership, config),
         "counts": _stage_counts(review, StageStatus.AWAITING_MORE),
         "querystring": f"stage={stage}" if stage else ""},
    )  # fmt: skip


urlpatterns = [
    path("screening/conflicts/", conflicts, name="conflicts"),
    path("screening/conflicts/<str:stage>/<int:record_id>/", conflict_resolve,
         name="conflict_resolve"),
    path("screening/awaiting/", awaiting, name="awaiting"),
]  # fmt: skip
