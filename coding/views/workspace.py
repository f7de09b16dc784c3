"""The coding workspace: every included study with its documents, and adding documents from
the study's full-text PDF, an uploaded .pdf/.txt/.docx, or pasted text."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.db.models import Count, Max, Prefetch, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_GET, require_http_methods

from reviewapp.access import posted
from screening.models import FullText, Study

from ..access import coder_filter, get_coding_review, sees_all_coding
from ..citations import citations_for
from ..documents import DocumentError, add_document
from ..extract import ExtractError, clean_pasted_text, extract_text
from ..models import Document


def max_upload_bytes():
    return getattr(settings, "FULLTEXT_MAX_UPLOAD_MB", 50) * 1024 * 1024


@require_GET
def coding_home(request, slug):
    review, membership, config = get_coding_review(request, slug)
    coder = coder_filter(request, membership, config)
    excerpt_filter = Q(excerpts__coder=coder) if coder is not None else Q()
    documents = Document.objects.annotate(
        version_count=Max("versions__number"),
        excerpt_count=Count("excerpts", filter=excerpt_filter, distinct=True),
    ).order_by("title", "id")
    studies = list(
        Study.objects.filter(review=review)
        .prefetch_related(Prefetch("documents", queryset=documents))
        .order_by("label", "id")
    )
    citations = citations_for([s.pk for s in studies])
    for study in studies:
        study.citation = citations.get(study.pk, "")
    return render(
        request,
        "coding/home.html",
        {
            "review": review,
            "membership": membership,
            "config": config,
            "sees_all": sees_all_coding(membership, config),
            "mine_only": coder is not None,
            "studies": studies,
        },
    )


class DocumentForm(forms.Form):
    SOURCES = [
        ("fulltext", "Extract the text of the study's full-text PDF"),
        ("upload", "Upload a file (PDF with a text layer, .docx or .txt)"),
        ("paste", "Paste the text"),
    ]
    title = forms.CharField(label="Title", max_length=300, help_text="e.g. “Findings section”.")
    source = forms.ChoiceField(label="Where the text comes from", choices=SOURCES,
                               widget=forms.RadioSelect)  # fmt: skip
    file = forms.FileField(label="File", required=False)
    text = forms.CharField(
        label="Text", required=False, widget=forms.Textarea(attrs={"rows": 12}),
        strip=False,
    )  # fmt: skip

    def __init__(self, *args, fulltexts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fulltexts = fulltexts
        if not fulltexts:
            self.fields["source"].choices = self.SOURCES[1:]


def _study_fulltexts(study):
    return list(
        FullText.objects.filter(record__study_report__study=study)
        .exclude(file="")
        .select_related("record")
        .order_by("-record__study_report__is_primary", "record_id")
    )


@require_http_methods(["GET", "POST"])
def document_add(request, slug, study_id):
    review, membership, config = get_coding_review(request, slug)
    study = get_object_or_404(Study, pk=study_id, review=review)
    fulltexts = _study_fulltexts(study)
    form = DocumentForm(
        posted(request),
        request.FILES or None,
        fulltexts=fulltexts,
        initial={"title": study.label, "source": "fulltext" if fulltexts else "upload"},
    )
    if request.method == "POST" and form.is_valid():
        try:
            text, source, file_name, warnings = _text_from(form, fulltexts)
            document = add_document(
                study=study,
                title=form.cleaned_data["title"],
                text=text,
                source=source,
                user=request.user,
                file_name=file_name,
            )
        except (ExtractError, DocumentError) as exc:
            form.add_error(None, getattr(exc, "message", None) or str(exc))
        else:
            for warning in warnings:
                messages.warning(request, warning)
            messages.success(
                request, f"Added “{document.title}” ({len(text):,} characters) to {study.label}."
            )
            return redirect("document", review.slug, document.pk)
    return render(
        request,
        "coding/document_add.html",
        {
            "review": review,
            "membership": membership,
            "sees_all": sees_all_coding(membership, config),
            "study": study,
            "fulltexts": fulltexts,
            "form": form,
        },
        status=400 if request.method == "POST" else 200,
    )


def _text_from(form, fulltexts):
    """(text, Document.Source, file name, warnings) for the chosen source."""
    source = form.cleaned_data["source"]
    limit = max_upload_bytes()
    if source == "fulltext":
        if not fulltexts:
            raise DocumentError("This study has no full-text PDF attached.")
        fulltext = fulltexts[0]
        with fulltext.file.open("rb") as handle:
            result = extract_text(handle, fulltext.file_name, max_bytes=limit)
        return result.text, result.kind, fulltext.file_name, result.warnings
    if source == "upload":
        upload = form.cleaned_data.get("file")
        if upload is None:
            raise DocumentError("Choose a file to upload.")
        if upload.size > limit:
            raise DocumentError(
                f"{upload.name}: the file is {upload.size / 1048576:.0f} MB; the limit is "
                f"{limit // 1048576} MB."
            )
        result = extract_text(upload, upload.name, max_bytes=limit)
        return result.text, result.kind, upload.name, result.warnings
    return clean_pasted_text(form.cleaned_data.get("text") or ""), "paste", "", []


urlpatterns = [
    path("", coding_home, name="coding_home"),
    path("studies/<int:study_id>/add/", document_add, name="document_add"),
]
