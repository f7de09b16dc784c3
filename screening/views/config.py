"""The lead's screening settings page: how records are screened, the ordered list of
exclusion reasons, and the review-wide highlight terms.

One page, several small forms; each form posts an `action` and the matching handler below
validates it and calls one service in screening.settings_services. A handler returns a
redirect when the change was made, or None to re-render the page (status 400) with the
problem shown beside the form that caused it and in the error summary at the top.
"""

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods

from reviewapp.access import get_review_for, is_lead

from .. import settings_services as services
from ..decisions import config_for
from ..forms_config import (
    HighlightTermsForm,
    ReasonAddForm,
    ReasonListForm,
    ReasonMoveForm,
    ReasonTextForm,
    ScreeningSettingsForm,
)
from ..models import ExclusionReason, ScreeningConfig


class SettingsForm(ScreeningSettingsForm):
    """The settings form with the queue's order (the lead's choice; screening.ranking)."""

    order = forms.TypedChoiceField(
        label="Order of the title/abstract queue",
        choices=[
            (ScreeningConfig.Order.RANDOM, "Random"),
            (ScreeningConfig.Order.PRIORITY, ScreeningConfig.Order.PRIORITY.label),
        ],
        coerce=ScreeningConfig.Order,
        empty_value=None,
        # Not required: a form posted without it (an older page, a script) keeps the order.
        required=False,
        widget=forms.RadioSelect,
        help_text="Most likely relevant first puts the records a model rates most relevant at "
        "the front of the queue. The order stays random until the team has at least one "
        "include and one exclude; after that the queue is re-ranked a few seconds after new "
        "decisions. The order does not change who screens what: every record still goes to "
        "as many reviewers as it needs.",
    )
    field_order = ["reviewers_per_record", "blind", "order"]

    @classmethod
    def initial_for(cls, config):
        return {**super().initial_for(config), "order": config.order}


def _rename_form(reason, data=None):
    form = ReasonTextForm(data, prefix=f"reason-{reason.pk}", initial={"text": reason.text})
    form.fields["text"].label = f"New wording for “{reason.text}”"
    return form


class SettingsPage:
    """The page's forms (unbound, or the one that was posted, bound) and its problems."""

    def __init__(self, review, config):
        self.review = review
        self.config = config
        self.reasons = list(services.reasons_with_usage(review))
        self.settings_form = SettingsForm(review=review, initial=SettingsForm.initial_for(config))
        self.add_form = ReasonAddForm(prefix="add")
        self.list_form = ReasonListForm(
            initial={"lines": "\n".join(reason.text for reason in self.reasons)}
        )
        terms = services.review_highlight_terms(review)
        self.terms_form = HighlightTermsForm(
            initial={kind: "\n".join(values) for kind, values in terms.items()}
        )
        self.rename_form = None  # (reason id, bound form) after a refused rename
        self.problems = []  # (message, id of the element it is about)

    def url(self, anchor):
        return f"{reverse('screening_settings', args=[self.review.slug])}#{anchor}"

    def reason(self, value):
        """The review's reason whose id was posted, or 404."""
        if not str(value or "").isdigit():
            raise Http404("No such exclusion reason.")
        return get_object_or_404(ExclusionReason, pk=int(value), review=self.review)

    def reason_rows(self):
        rows = []
        for reason in self.reasons:
            form = _rename_form(reason)
            if self.rename_form and self.rename_form[0] == reason.pk:
                form = self.rename_form[1]
            rows.append(
                {
                    "reason": reason,
                    "usage": services.usage_text(reason.n_decisions, reason.n_resolutions),
                    "form": form,
                }
            )
        return rows

    def context(self, membership):
        forms = [self.settings_form, self.add_form, self.list_form, self.terms_form]
        if self.rename_form:
            forms.append(self.rename_form[1])
        return {
            "review": self.review,
            "membership": membership,
            "settings_form": self.settings_form,
            "add_form": self.add_form,
            "list_form": self.list_form,
            "terms_form": self.terms_form,
            "reason_rows": self.reason_rows(),
            "error_forms": [form for form in forms if form.errors],
            "problems": self.problems,
        }


def _save_settings(request, page):
    form = page.settings_form = SettingsForm(request.POST, review=page.review)
    if not form.is_valid():
        return None
    order_before = page.config.order
    try:
        _, settled = services.update_screening_config(review=page.review, **form.cleaned_data)
    except services.SettingsError as exc:
        form.add_error(None, str(exc))
        return None
    message = "Screening settings saved."
    order = form.cleaned_data["order"]
    if order and order != order_before:
        message += (
            " Records are now served most likely relevant first, once the team has at least "
            "one include and one exclude."
            if order == ScreeningConfig.Order.PRIORITY
            else " Records are now served in random order again."
        )
    if settled:
        message += (
            f" {services.plural(settled, 'record')} already had enough decisions and "
            f"{'was' if settled == 1 else 'were'} settled."
        )
    messages.success(request, message)
    # To the top of the page, where the message is.
    return redirect("screening_settings", slug=page.review.slug)


def _add_reason(request, page):
    form = page.add_form = ReasonAddForm(request.POST, prefix="add")
    if not form.is_valid():
        return None
    try:
        reason = services.add_exclusion_reason(page.review, form.cleaned_data["text"])
    except services.SettingsError as exc:
        form.add_error("text", str(exc))
        return None
    messages.success(request, f"Added “{reason.text}” at the end of the list.")
    return redirect(page.url(f"reason-{reason.pk}"))


def _rename_reason(request, page):
    reason = page.reason(request.POST.get("reason"))
    form = _rename_form(reason, request.POST)
    page.rename_form = (reason.pk, form)
    if not form.is_valid():
        return None
    old = reason.text
    try:
        services.rename_exclusion_reason(reason, form.cleaned_data["text"])
    except services.SettingsError as exc:
        form.add_error("text", str(exc))
        return None
    messages.success(request, f"Renamed “{old}” to “{reason.text}”.")
    return redirect(page.url(f"reason-{reason.pk}"))


def _remove_reason(request, page):
    reason = page.reason(request.POST.get("reason"))
    try:
        services.remove_exclusion_reason(reason)
    except services.SettingsError as exc:
        page.problems.append((str(exc), f"reason-{reason.pk}"))
        return None
    messages.success(request, f"Removed “{reason.text}”.")
    return redirect(page.url("reasons-heading"))


def _move_reason(request, page):
    reason = page.reason(request.POST.get("reason"))
    form = ReasonMoveForm(request.POST)
    if not form.is_valid():
        page.problems.append(("Move a reason up or down.", f"reason-{reason.pk}"))
        return None
    direction = form.cleaned_data["direction"]
    try:
        position, total = services.move_exclusion_reason(reason, direction)
    except services.SettingsError as exc:
        page.problems.append((str(exc), f"reason-{reason.pk}-{direction}"))
        return None
    messages.success(request, f"Moved “{reason.text}” {direction}: now {position} of {total}.")
    # Back to the same button, so pressing it again moves the reason another step.
    return redirect(page.url(f"reason-{reason.pk}-{direction}"))


def _replace_reasons(request, page):
    form = page.list_form = ReasonListForm(request.POST)
    if not form.is_valid():
        return None
    try:
        change = services.set_exclusion_reasons(page.review, form.cleaned_data["lines"])
    except services.SettingsError as exc:
        form.add_error("lines", str(exc))
        return None
    done = [f"{n} {what}" for n, what in ((change.added, "added"), (change.renamed, "renamed"),
                                          (change.removed, "removed")) if n]  # fmt: skip
    messages.success(
        request,
        f"Saved the list of {services.plural(len(change.reasons), 'exclusion reason')}"
        + (f" ({', '.join(done)})." if done else ", unchanged."),
    )
    return redirect(page.url("reasons-heading"))


def _save_terms(request, page):
    form = page.terms_form = HighlightTermsForm(request.POST)
    if not form.is_valid():
        return None
    try:
        saved = services.set_highlight_terms(
            page.review, include=form.cleaned_data["include"], exclude=form.cleaned_data["exclude"]
        )
    except services.SettingsError as exc:
        form.add_error(None, str(exc))
        return None
    messages.success(
        request,
        f"Highlight terms saved: {services.plural(len(saved['include']), 'include term')} and "
        f"{services.plural(len(saved['exclude']), 'exclude term')}.",
    )
    return redirect("screening_settings", slug=page.review.slug)


ACTIONS = {
    "settings": _save_settings,
    "add_reason": _add_reason,
    "rename_reason": _rename_reason,
    "remove_reason": _remove_reason,
    "move_reason": _move_reason,
    "replace_reasons": _replace_reasons,
    "terms": _save_terms,
}


@require_http_methods(["GET", "POST"])
def screening_settings(request, slug):
    review, membership = get_review_for(request, slug, need=is_lead)
    page = SettingsPage(review, config_for(review))
    status = 200
    if request.method == "POST":
        handler = ACTIONS.get(request.POST.get("action"))
        if handler is None:
            page.problems.append(("Use one of the buttons on this page.", "settings-heading"))
        else:
            done = handler(request, page)
            if done is not None:
                return done
        status = 400
    return render(
        request, "screening/config/settings.html", page.context(membership), status=status
    )


urlpatterns = [
    path("screening/settings/", screening_settings, name="screening_settings"),
]
