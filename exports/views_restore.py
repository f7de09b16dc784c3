"""Restoring a review archive from the browser. Anyone signed in may restore one: it makes
a new review, of which they become a lead, and touches no existing review."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from .restore import RestoreError, restore_archive

MB = 1024 * 1024


def max_upload_bytes():
    # Archives hold every uploaded file of a review, so a deployment may allow them more
    # than a search export (ARCHIVE_MAX_UPLOAD_MB); by default the same limit.
    megabytes = getattr(settings, "ARCHIVE_MAX_UPLOAD_MB", settings.IMPORT_MAX_UPLOAD_MB)
    return megabytes * MB


class RestoreForm(forms.Form):
    archive = forms.FileField(
        label="Review archive",
        help_text="The .zip file made by a review's “Review archive” export.",
        widget=forms.ClearableFileInput(attrs={"accept": ".zip,application/zip"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["archive"].help_text += f" At most {max_upload_bytes() // MB} MB."


def _too_large():
    return (
        f"The file is larger than the {max_upload_bytes() // MB} MB limit for an archive. "
        "Restore it with `python manage.py restore_review`, or ask whoever runs the server "
        "to raise ARCHIVE_MAX_UPLOAD_MB."
    )


@require_http_methods(["GET", "POST"])
def restore_upload(request):
    form = RestoreForm()
    status = 200
    if request.method == "POST":
        # Refuse an oversized upload from its declared length, before reading its body.
        if int(request.META.get("CONTENT_LENGTH") or 0) > max_upload_bytes() + 65536:
            form = RestoreForm(data={}, files={})
            # Replaces "This field is required": the file was there, and too large.
            form.errors["archive"] = form.error_class([_too_large()])
            status = 413
        else:
            form = RestoreForm(request.POST, request.FILES)
            status = 400
            if form.is_valid():
                upload = form.cleaned_data["archive"]
                if upload.size > max_upload_bytes():
                    form.add_error("archive", _too_large())
                    status = 413
                else:
                    try:
                        # An uploaded archive can be forged: it must not put other
                        # people into a review. The command (run by an administrator)
                        # restores every membership.
                        review = restore_archive(upload, user=request.user,
                                                 keep_members=False)  # fmt: skip
                    except RestoreError as exc:
                        form.add_error("archive", f"Nothing was restored. {exc}")
                    else:
                        messages.success(
                            request,
                            f"“{review.title}” is restored as a new review, and you are its "
                            "lead. Invite the rest of the team again from its Members page.",
                        )
                        return redirect(review)
    return render(request, "exports/restore.html", {"form": form}, status=status)
