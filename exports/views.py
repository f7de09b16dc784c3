"""The exports page: the lead picks a format, the export runs on a worker, the page shows
its progress without reloading (exports.js polls the jobs fragment), and offers the file
when it is ready. Only leads start, see and download exports."""

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from reviewapp.access import get_review_for, is_lead, posted
from screening.models import Study

from . import jobs
from .models import ExportJob
from .registry import FORMATS, GROUPS, ExportError
from .storage import export_storage
from .tasks import run_export

RECENT = 30


class ExportForm(forms.Form):
    format = forms.ChoiceField(label="What to export")
    studies = forms.ModelMultipleChoiceField(
        label="Only these studies (for the included-studies formats; none chosen: all)",
        queryset=Study.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    names = forms.BooleanField(
        label="Use Advisory Group members' names instead of Member A, B, … "
        "(involvement report only)",
        required=False,
    )

    def __init__(self, *args, review, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["format"].choices = [
            (group, [(f.name, f"{f.label} ({f.extension.upper()})")
                     for f in sorted(FORMATS.values(), key=lambda f: f.label)
                     if f.group == group])
            for group in GROUPS
            if any(f.group == group for f in FORMATS.values())
        ]  # fmt: skip
        self.fields["studies"].queryset = Study.objects.filter(review=review).order_by("label")

    def options(self):
        data = self.cleaned_data
        options = {}
        if data["format"].startswith("included-") and data["studies"]:
            options["studies"] = sorted(s.pk for s in data["studies"])
        if data["format"].startswith("involvement-") and data["names"]:
            options["names"] = True
        return options


def _jobs(review):
    return ExportJob.objects.filter(review=review).select_related("requested_by")[:RECENT]


def _rows(jobs_):
    for job in jobs_:
        fmt = FORMATS.get(job.format)
        job.label = fmt.label if fmt else job.format
        job.percent = round(job.progress * 100)
    return jobs_


@require_http_methods(["GET", "POST"])
def exports_page(request, slug):
    review, membership = get_review_for(request, slug, need=is_lead)
    form = ExportForm(posted(request), review=review)
    if request.method == "POST" and form.is_valid():
        job = jobs.create_job(review=review, user=request.user,
                              format_name=form.cleaned_data["format"],
                              options=form.options())  # fmt: skip
        transaction.on_commit(lambda: run_export.delay(job_id=job.pk))
        messages.success(request, f"Export started: {FORMATS[job.format].label}.")
        return redirect("exports", review.slug)
    return render(
        request,
        "exports/exports.html",
        {
            "review": review,
            "membership": membership,
            "form": form,
            "jobs": _rows(list(_jobs(review))),
            "formats": FORMATS,
        },
        status=400 if form.is_bound else 200,
    )


@require_GET
def export_jobs(request, slug):
    """The jobs table alone, for the page's polling."""
    review, membership = get_review_for(request, slug, need=is_lead)
    response = render(request, "exports/jobs.html",
                      {"review": review, "jobs": _rows(list(_jobs(review)))})  # fmt: skip
    response["Cache-Control"] = "no-store"
    return response


def _job(review, job_id):
    return get_object_or_404(ExportJob, pk=job_id, review=review)


@require_GET
def export_download(request, slug, job_id):
    review, _ = get_review_for(request, slug, need=is_lead)
    job = _job(review, job_id)
    if job.status != ExportJob.Status.SUCCEEDED or not job.file:
        raise Http404("This export has no file to download.")
    fmt = FORMATS.get(job.format)
    try:
        handle = export_storage().open(job.file.name, "rb")
    except FileNotFoundError:
        raise Http404("The export's file is gone.") from None
    return FileResponse(
        handle,
        as_attachment=True,
        filename=job.file_name,
        content_type=fmt.content_type if fmt else "application/octet-stream",
    )


@require_POST
def export_retry(request, slug, job_id):
    review, _ = get_review_for(request, slug, need=is_lead)
    job = _job(review, job_id)
    try:
        jobs.retry(job)
    except ExportError as exc:
        messages.error(request, str(exc))
    else:
        transaction.on_commit(lambda: run_export.delay(job_id=job.pk))
        messages.success(request, "Trying the export again.")
    return redirect("exports", review.slug)


@require_POST
def export_delete(request, slug, job_id):
    review, _ = get_review_for(request, slug, need=is_lead)
    job = _job(review, job_id)
    if job.status == ExportJob.Status.RUNNING:
        messages.error(request, "A running export cannot be deleted; wait for it to finish.")
        return redirect("exports", review.slug)
    if job.file:
        storage = export_storage()
        if storage.exists(job.file.name):
            storage.delete(job.file.name)
    job.delete()
    messages.success(request, "Export deleted.")
    return redirect("exports", review.slug)


urlpatterns = [
    path("exports/", exports_page, name="exports"),
    path("exports/jobs/", export_jobs, name="export_jobs"),
    path("exports/<int:job_id>/download/", export_download, name="export_download"),
    path("exports/<int:job_id>/retry/", export_retry, name="export_retry"),
    path("exports/<int:job_id>/delete/", export_delete, name="export_delete"),
]
