"""Full-text assessment: the list, the assessment page (the PDF beside the decision form),
attaching a full text, serving it, and the studies that included reports make up.

Full texts are copyrighted and may be sensitive: only the review's researchers (leads and
reviewers) ever receive the file, through `fulltext_file`; Advisory Group members never do.
"""

import re
from urllib.parse import quote

from csp.constants import NONE, SELF
from csp.decorators import csp
from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Prefetch, Subquery
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from reviewapp.access import get_review_for, is_researcher, posted

from .. import fulltexts
from ..access import can_adjudicate, get_record_for
from ..decisions import DecisionError, StaleDecision, config_for, record_decision
from ..forms import IncludeExcludeForm
from ..models import (
    Decision,
    FullText,
    Record,
    RecordStage,
    Stage,
    Study,
    StudyReport,
)
from ..models.decisions import DecisionValue, StageStatus
from ..queue import next_record_stage

PAGE_SIZE = 50
# Statuses whose decisions anyone in the review may see: the record is settled.
SETTLED = (
    StageStatus.INCLUDED, StageStatus.EXCLUDED, StageStatus.RESOLVED_INCLUDE,
    StageStatus.RESOLVED_EXCLUDE,
)  # fmt: skip
FILTERS = {
    "": "All records at full text",
    "mine": "Waiting for my decision",
    "missing": "No full text yet",
    "not_retrieved": "Not retrieved",
    "conflict": "Conflicts",
}


def doi_url(record):
    """Where the record's DOI resolves (to find the full text), or ""."""
    return f"https://doi.org/{quote(record.doi, safe='/')}" if record.doi else ""


def visible_status(status, sees_all):
    """What a status says to someone who must stay blind: a conflict would tell a reviewer
    the other decision (and tempt them to change theirs), so it reads as "all decisions in"."""
    if status == StageStatus.CONFLICT and not sees_all:
        return "All decisions in; awaiting the outcome"
    return StageStatus(status).label


# --- forms -------------------------------------------------------------------------------


class FullTextDecisionForm(IncludeExcludeForm):
    note = forms.CharField(label="Note", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    # The version of my decision this page showed (0: none), so a change made meanwhile in
    # another tab is not silently overwritten. Left out, nothing is checked.
    version = forms.IntegerField(min_value=0, required=False, widget=forms.HiddenInput)

    def __init__(self, *args, review, **kwargs):
        super().__init__(*args, review=review, **kwargs)
        self.fields["reason"].help_text = "Required to exclude."


class PdfForm(forms.Form):
    prefix = "pdf"
    file = forms.FileField(
        label="PDF of the full text",
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,.pdf"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        limit = fulltexts.max_upload_bytes() // 1048576
        self.fields["file"].help_text = f"A PDF file of up to {limit} MB."


class LinkForm(forms.Form):
    prefix = "link"
    # A CharField, not a URLField: fulltexts.attach_link is the one place that decides
    # which links are acceptable, so its message is the one reviewers see.
    link = forms.CharField(
        label="Link to the full text",
        max_length=fulltexts.LINK_MAX_LENGTH,
        help_text="An http:// or https:// address where the article can be read.",
        widget=forms.URLInput(attrs={"autocomplete": "url"}),
    )


class NotRetrievedForm(forms.Form):
    prefix = "nr"
    reason = forms.CharField(
        label="Why it could not be retrieved",
        max_length=fulltexts.REASON_MAX_LENGTH,
        help_text="e.g. not held by the library; authors contacted, no reply.",
    )


ATTACH_FORMS = {"pdf": PdfForm, "link": LinkForm, "not_retrieved": NotRetrievedForm}


# --- the list ----------------------------------------------------------------------------


@require_GET
def fulltext_list(request, slug):
    review, membership = get_review_for(request, slug, need=is_researcher)
    config = config_for(review)
    adjudicator = can_adjudicate(membership, config)
    sees_all = adjudicator or not config.blind
    mine = Decision.objects.filter(
        record_id=OuterRef("record_id"), stage=Stage.FT, reviewer=request.user
    )
    rows = (
        RecordStage.objects.filter(review=review, stage=Stage.FT)
        .exclude(status=StageStatus.MERGED)
        .select_related("record", "record__full_text")
        .annotate(my_decision=Subquery(mine.values("value")[:1]))
        .order_by("order_key", "id")
    )
    show = request.GET.get("show", "")
    if show not in FILTERS or (show == "conflict" and not sees_all):
        show = ""
    if show == "mine":
        rows = rows.filter(status__in=(StageStatus.AWAITING, StageStatus.AWAITING_MORE)).exclude(
            Exists(mine)
        )
    elif show == "missing":
        has_text = FullText.objects.filter(record_id=OuterRef("record_id")).exclude(
            file="", link="", not_retrieved=False
        )
        rows = rows.exclude(Exists(has_text))
    elif show == "not_retrieved":
        rows = rows.filter(status=StageStatus.NOT_RETRIEVED)
    elif show == "conflict":
        rows = rows.filter(status=StageStatus.CONFLICT)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    items = []
    for row in page.object_list:
        full_text = getattr(row.record, "full_text", None)
        items.append((row, full_text, visible_status(row.status, sees_all)))
    filters = [(key, label) for key, label in FILTERS.items() if key != "conflict" or sees_all]
    return render(
        request, "screening/fulltext/list.html",
        {"review": review, "membership": membership, "page": page, "items": items,
         "show": show, "filters": filters, "sees_all": sees_all, "adjudicator": adjudicator,
         "next_row": next_record_stage(review, request.user, Stage.FT),
         "querystring": f"show={show}" if show else ""},
    )  # fmt: skip


# --- the assessment page -----------------------------------------------------------------


def _ft_row(record):
    row = RecordStage.objects.filter(record=record, stage=Stage.FT).first()
    if row is None:
        raise Http404("This record is not at the full-text stage.")
    return row


# Nobody can decide on these: settled by an adjudicator, nothing to assess, or merged.
CLOSED = (
    StageStatus.RESOLVED_INCLUDE, StageStatus.RESOLVED_EXCLUDE, StageStatus.NOT_RETRIEVED,
    StageStatus.MERGED,
)  # fmt: skip


def _record_page(request, review, membership, record, *, decision_form=None, attach_forms=None,
                 status=200):  # fmt: skip
    """The assessment page; the views pass bound forms back in to show their errors."""
    row = _ft_row(record)
    config = config_for(review)
    decisions = list(
        Decision.objects.filter(record=record, stage=Stage.FT)
        .select_related("reviewer", "reason")
        .order_by("created_at", "id")
    )
    mine = next((d for d in decisions if d.reviewer_id == request.user.pk), None)
    # Blind until settled: before then a reviewer sees only their own decision.
    others_visible = row.status in SETTLED or not config.blind
    others = [d for d in decisions if d is not mine] if others_visible else []
    if decision_form is None:
        initial = {"version": mine.version if mine else 0}
        if mine:
            initial.update(value=mine.value, reason=mine.reason_id, note=mine.note)
        decision_form = FullTextDecisionForm(initial=initial, review=review)
    has_room = mine is not None or row.decision_count < config.reviewers_per_record
    attach = {"pdf": PdfForm(), "link": LinkForm(), "not_retrieved": NotRetrievedForm()}
    attach.update(attach_forms or {})
    adjudicator = can_adjudicate(membership, config)
    context = {
        "review": review, "membership": membership, "record": record, "row": row,
        "full_text": getattr(record, "full_text", None), "doi_url": doi_url(record),
        "decision_form": decision_form, "my_decision": mine, "others": others,
        "others_visible": others_visible,
        "can_decide": row.status not in CLOSED and has_room,
        "status_label": visible_status(row.status, adjudicator or not config.blind),
        "adjudicator": adjudicator,
        "can_resolve": adjudicator and row.status == StageStatus.CONFLICT,
        "has_reasons": decision_form.fields["reason"].queryset.exists(),
        "pdf_form": attach["pdf"], "link_form": attach["link"],
        "not_retrieved_form": attach["not_retrieved"],
    }  # fmt: skip
    return render(request, "screening/fulltext/record.html", context, status=status)


def _after_decision(request, review, record):
    """Where a reviewer goes after deciding: the next record needing them, or the list."""
    following = next_record_stage(review, request.user, Stage.FT)
    if following is None:
        messages.info(request, "No more records at full text need your decision.")
        return redirect("fulltext_list", slug=review.slug)
    return redirect("fulltext_record", slug=review.slug, record_id=following.record_id)


@require_http_methods(["GET", "POST"])
def fulltext_record(request, slug, record_id):
    review, membership, record = get_record_for(request, slug, record_id)
    record = get_object_or_404(
        Record.objects.select_related("batch", "full_text", "full_text__added_by"), pk=record.pk
    )
    if request.method == "GET":
        return _record_page(request, review, membership, record)
    row = _ft_row(record)
    form = FullTextDecisionForm(posted(request), review=review)
    status = 400
    if row.status == StageStatus.NOT_RETRIEVED:
        form.add_error(None, "The full text was not retrieved: undo that before deciding.")
    elif form.is_valid():
        data = form.cleaned_data
        try:
            _, outcome = record_decision(
                record=record, stage=Stage.FT, reviewer=request.user, value=data["value"],
                reason=data["reason"], note=data["note"], expected_version=data["version"],
            )  # fmt: skip
        except StaleDecision as exc:
            form.add_error(None, str(exc))
            status = 409
        except DecisionError as exc:
            form.add_error(None, str(exc))
        else:
            label = DecisionValue(data["value"]).label.lower()
            if data["reason"]:
                label += f" ({data['reason']})"
            messages.success(request, f"Your decision on record #{record.pk} is saved: {label}.")
            return _after_decision(request, review, record)
    return _record_page(request, review, membership, record, decision_form=form, status=status)


@require_POST
def fulltext_attach(request, slug, record_id):
    review, membership, record = get_record_for(request, slug, record_id)
    _ft_row(record)
    limit = fulltexts.max_upload_bytes()
    # Refuse an oversized upload from its declared length, before reading its body (no
    # link or reason comes near the limit).
    if int(request.META.get("CONTENT_LENGTH") or 0) > limit + 65536:
        action, status = "pdf", 413
        form = PdfForm(data={}, files={})
        # Replaces "This field is required": the file was there, and too large.
        form.errors["file"] = form.error_class(
            [f"The file is larger than the {limit // 1048576} MB limit for a full text."]
        )
    else:
        action, status = request.POST.get("action", ""), 400
        if action == "retrieved":
            fulltexts.undo_not_retrieved(record, request.user)
            messages.success(request, "The record is back in full-text assessment.")
            return redirect("fulltext_record", slug=review.slug, record_id=record.pk)
        if action not in ATTACH_FORMS:
            raise Http404("No such action.")
        form = ATTACH_FORMS[action](request.POST, request.FILES or None)
        if form.is_valid():
            data = form.cleaned_data
            try:
                if action == "pdf":
                    fulltexts.attach_pdf(record, data["file"], request.user)
                    done = f"{fulltexts.display_name_of(data['file'])} is attached."
                elif action == "link":
                    fulltexts.attach_link(record, data["link"], request.user)
                    done = "The link is saved."
                else:
                    fulltexts.mark_not_retrieved(record, data["reason"], request.user)
                    done = "The full text is marked as not retrieved."
            except fulltexts.FullTextError as exc:
                form.add_error(next(iter(form.fields)), str(exc))
            else:
                messages.success(request, done)
                return redirect("fulltext_record", slug=review.slug, record_id=record.pk)
    record = get_object_or_404(
        Record.objects.select_related("batch", "full_text", "full_text__added_by"), pk=record.pk
    )
    return _record_page(request, review, membership, record, attach_forms={action: form},
                        status=status)  # fmt: skip


# --- serving the file --------------------------------------------------------------------


def safe_filename(name, record_id):
    """A download name without folders, quotes or control characters, ending in .pdf."""
    stem = re.sub(r"\.pdf$", "", name or "", flags=re.IGNORECASE)
    stem = re.sub(r"[^\w .()\-]+", "_", stem).strip(" ._")[:120]
    return f"{stem or f'record-{record_id}'}.pdf"


# The PDF may be framed by our own pages and nothing else, and loads nothing itself.
# Chromium 156 (the browser tests') renders it in a frame under this policy. `object-src`
# allows the document's own origin rather than 'none', and there is no `sandbox`, because
# browsers whose PDF viewer is a plugin (Safari, older Chromium) apply those to the PDF
# document itself and would show nothing.
PDF_POLICY = {
    "default-src": [NONE],
    "object-src": [SELF],
    "base-uri": [NONE],
    "form-action": [NONE],
    "frame-ancestors": [SELF],
}


@require_GET
@xframe_options_sameorigin
@csp(PDF_POLICY)
def fulltext_file(request, slug, record_id):
    review, membership, record = get_record_for(request, slug, record_id)
    full_text = FullText.objects.filter(record=record).exclude(file="").first()
    if full_text is None:
        raise Http404("No PDF is attached to this record.")
    try:
        handle = full_text.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404("The PDF is missing from storage.") from exc
    response = FileResponse(
        handle, content_type="application/pdf", as_attachment=False,
        filename=safe_filename(full_text.file_name, record.pk),
    )  # fmt: skip
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


# --- studies -----------------------------------------------------------------------------


def report_label(record):
    author = (record.first_author.split(",")[0] if record.authors else "") or "Anon"
    return f"#{record.pk} {author} {record.year or 'n.d.'}: {record.title[:80]}"


class ReportChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return report_label(obj)


class StudyLinkForm(forms.Form):
    record_id = ReportChoiceField(
        label="Report",
        queryset=Record.objects.none(),
        empty_label="— choose a report —",
        help_text="An included report to move.",
    )
    study_id = forms.ChoiceField(
        label="Study it reports",
        help_text="The study this is a later (or another) report of; or a study of its own, "
        "to undo a link.",
    )

    def __init__(self, *args, review, studies, **kwargs):
        super().__init__(*args, **kwargs)
        self.review = review
        self.fields["record_id"].queryset = Record.objects.filter(
            review=review, study_report__isnull=False
        ).order_by("id")
        self.fields["study_id"].choices = (
            [("", "— choose a study —")]
            + [(str(study.pk), f"{study.label} (study {study.pk})") for study in studies]
            + [("new", "A study of its own")]
        )

    def clean_study_id(self):
        value = self.cleaned_data["study_id"]
        if value == "new":
            return None
        study = Study.objects.filter(review=self.review, pk=value).first()
        if study is None:
            raise forms.ValidationError("Choose a study of this review.")
        return study


def _studies_page(request, review, membership, form=None, status=200):
    reports = Prefetch(
        "reports",
        queryset=StudyReport.objects.select_related("record").order_by("-is_primary", "id"),
    )
    all_studies = Study.objects.filter(review=review).order_by("label", "id")
    page = Paginator(all_studies.prefetch_related(reports), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    if form is None:
        form = StudyLinkForm(review=review, studies=all_studies)
    report_count = StudyReport.objects.filter(study__review=review).count()
    return render(
        request, "screening/fulltext/studies.html",
        {"review": review, "membership": membership, "page": page, "form": form,
         "report_count": report_count,
         "adjudicator": can_adjudicate(membership, config_for(review))},
        status=status,
    )  # fmt: skip


@require_GET
def studies(request, slug):
    review, membership = get_review_for(request, slug, need=is_researcher)
    return _studies_page(request, review, membership)


@require_POST
def study_link(request, slug):
    review, membership = get_review_for(request, slug, need=is_researcher)
    studies_ = Study.objects.filter(review=review).order_by("label", "id")
    form = StudyLinkForm(request.POST, review=review, studies=studies_)
    if form.is_valid():
        record, study = form.cleaned_data["record_id"], form.cleaned_data["study_id"]
        try:
            study = fulltexts.link_report(record, study, request.user)
        except fulltexts.FullTextError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Report #{record.pk} is now a report of {study.label}.")
            return redirect(f"{reverse('studies', args=[review.slug])}#study-{study.pk}")
    return _studies_page(request, review, membership, form=form, status=400)


urlpatterns = [
    path("screening/ft/", fulltext_list, name="fulltext_list"),
    path("screening/ft/<int:record_id>/", fulltext_record, name="fulltext_record"),
    path("screening/ft/<int:record_id>/attach/", fulltext_attach, name="fulltext_attach"),
    path("screening/ft/<int:record_id>/file/", fulltext_file, name="fulltext_file"),
    path("studies/", studies, name="studies"),
    path("studies/link/", study_link, name="study_link"),
]
