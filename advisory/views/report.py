"""The involvement report (GRIPP2 short form) for the lead: a page that explains it, and its
downloads as CSV or as a Word document. Members are pseudonymised unless the lead asks for
names with `?names=1`."""

from django import forms
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from reviewapp.access import is_lead

from ..access import get_advisory_review
from ..report import FORMATS, SECTIONS, build_report

DOWNLOADS = {"csv": "involvement_csv", "docx": "involvement_docx"}


class ReportForm(forms.Form):
    format = forms.ChoiceField(
        label="Format",
        choices=[
            ("docx", "Word document"),
            ("csv", "CSV (one row per comment, for a spreadsheet)"),
        ],
        widget=forms.RadioSelect,
        initial="docx",
    )
    names = forms.BooleanField(
        label="Use members' names instead of Member A, B, …",
        required=False,
        help_text="Only if every member named has agreed to be named in this report. A "
        "named report identifies people with lived experience: keep it as safely as any "
        "personal data. Email addresses are never included.",
    )


@require_GET
def involvement_report(request, slug):
    review, membership, _ = get_advisory_review(request, slug, need=is_lead)
    form = ReportForm(request.GET if "format" in request.GET else None)
    if form.is_valid():
        url = reverse(DOWNLOADS[form.cleaned_data["format"]], args=[review.slug])
        return redirect(url + ("?names=1" if form.cleaned_data["names"] else ""))
    return render(
        request,
        "advisory/report.html",
        {"review": review, "membership": membership, "form": form, "sections": SECTIONS},
    )


# The file may name members (?names=1): no shared cache or browser history should keep it.
@never_cache
@require_GET
def download(request, slug, format_id):
    review, _, _ = get_advisory_review(request, slug, need=is_lead)
    write, content_type, extension = FORMATS[format_id]
    report = build_report(review, pseudonymise=request.GET.get("names") != "1")
    response = HttpResponse(write(report), content_type=content_type)
    response["Content-Disposition"] = (
        f'attachment; filename="{review.slug}-involvement-report.{extension}"'
    )
    return response


urlpatterns = [
    path("report/", involvement_report, name="involvement_report"),
    path("report/involvement.csv", download, {"format_id": "involvement-csv"},
         name="involvement_csv"),
    path("report/involvement.docx", download, {"format_id": "involvement-docx"},
         name="involvement_docx"),
]  # fmt: skip
