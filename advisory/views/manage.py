"""The lead's pages for preparing what the Advisory Group sees: the plain-language summary,
each theme's plain wording, content note and sharing, and the excerpts shared under a theme
(chosen from every coder's coding, redacted or pseudonymised, put in order).

Only the lead reaches these pages (reviewers and advisory members get 403, non-members 404).
Every change is a plain form posted by a button and made by one function of
advisory.sharing; nothing here loads a DocumentVersion's text.
"""

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from coding.citations import citations_for
from coding.models import Code
from reviewapp.access import is_lead, posted

from ..access import get_advisory_review
from ..models import Redaction, SharedExcerpt
from ..redaction import DEFAULT_REPLACEMENT, RedactionError, display_text
from ..sharing import (
    SharingError,
    move_shared_excerpt,
    redact,
    remove_redaction,
    set_visible,
    share_excerpt,
    shared_theme_for,
    theme_excerpts,
    unshare_excerpt,
    update_shared_excerpt,
    update_shared_theme,
    update_summary,
)

PAGE_SIZE = 50
CONTENT_NOTE_HELP = "Describe distressing material briefly, e.g. 'mentions of self-harm'."
# What the theme page loads of each coded excerpt: its quote, study and coder.
EXCERPT_FIELDS = (
    "id", "start", "text", "document_id", "coder_id",
    "document__id", "document__title", "document__study_id",
    "document__study__id", "document__study__label",
    "coder__id", "coder__name", "coder__email",
)  # fmt: skip


# ------------------------------------------------------------------------------ forms


class SummaryForm(forms.Form):
    summary = forms.CharField(
        label="Plain-language summary of the review",
        required=False,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text="What the review is about and why it matters, for people who are not "
        "researchers. Use short sentences and everyday words; explain or leave out "
        "jargon and abbreviations.",
    )


class SharedThemeForm(forms.Form):
    plain_title = forms.CharField(
        label="Plain-language title",
        max_length=200,
        required=False,
        help_text="A few everyday words. Left empty, the group sees the codebook name.",
    )
    plain_description = forms.CharField(
        label="Plain-language description",
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="What this theme is about, in short sentences without jargon.",
    )
    content_note = forms.CharField(
        label="Content note", max_length=300, required=False, help_text=CONTENT_NOTE_HELP
    )
    shared = forms.BooleanField(label="Show this theme to the Advisory Group", required=False)
    reason = forms.CharField(
        label="Why are you changing this?",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Kept in the theme's history, which the group can read, when you change "
        "the title or description.",
    )


class ShareForm(forms.Form):
    excerpt = forms.IntegerField()


class SharedExcerptForm(forms.Form):
    content_note = forms.CharField(
        label="Content note", max_length=300, required=False, help_text=CONTENT_NOTE_HELP
    )


class RedactionForm(forms.Form):
    quote = forms.CharField(
        label="Words to remove",
        max_length=1000,
        help_text="Exactly as they are written in the excerpt (capital letters count): a "
        "name, a place, anything that could identify someone.",
    )
    replacement = forms.CharField(
        label="Show instead",
        max_length=100,
        required=False,
        initial=DEFAULT_REPLACEMENT,
        help_text=f"For example a pseudonym such as “Participant A”. Left empty: "
        f"“{DEFAULT_REPLACEMENT}”.",
    )
    occurrence = forms.IntegerField(
        label="Which time they appear",
        min_value=1,
        required=False,
        help_text="Leave empty to replace every time they appear; 2 replaces only the second.",
    )


class MoveForm(forms.Form):
    direction = forms.ChoiceField(choices=[("up", "Up"), ("down", "Down")])


# ------------------------------------------------------------------------------ helpers


def _lead_review(request, slug):
    return get_advisory_review(request, slug, need=is_lead)


def _get_theme(review, code_id):
    """A top-level code (a theme) of this review, or 404."""
    return get_object_or_404(Code, pk=code_id, review=review, parent=None)


def _get_shared_excerpt(review, shared_id):
    return get_object_or_404(
        SharedExcerpt.objects.select_related("shared_theme__theme", "excerpt__document__study"),
        pk=shared_id,
        shared_theme__review=review,
    )


def _theme_url(review, code_id, anchor=""):
    url = reverse("shared_theme_edit", args=[review.slug, code_id])
    return f"{url}#{anchor}" if anchor else url


def _shared_excerpt_url(review, shared_id, anchor=""):
    url = reverse("shared_excerpt_edit", args=[review.slug, shared_id])
    return f"{url}#{anchor}" if anchor else url


# ------------------------------------------------------------------------------ overview


@require_GET
def advisory_manage(request, slug):
    review, membership, space = _lead_review(request, slug)
    themes = list(
        Code.objects.filter(review=review, parent=None)
        .select_related("shared")
        .only(
            "id",
            "name",
            "position",
            "shared__id",
            "shared__theme_id",
            "shared__plain_title",
            "shared__shared",
            "shared__content_note",
        )  # fmt: skip
        .annotate(shared_excerpts=Count("shared__excerpts"))
        .order_by("position", "id")
    )
    for theme in themes:
        # A theme nobody has prepared yet has no SharedTheme row.
        theme.sharing = getattr(theme, "shared", None)
    return render(
        request,
        "advisory/manage/home.html",
        {
            "review": review,
            "membership": membership,
            "space": space,
            "themes": themes,
            "summary_editor": space.updated_by.display_name if space.updated_by else "",
        },
    )


@require_http_methods(["GET", "POST"])
def advisory_summary_edit(request, slug):
    review, membership, space = _lead_review(request, slug)
    form = SummaryForm(posted(request), initial={"summary": space.summary})
    if form.is_valid():
        update_summary(space=space, user=request.user, summary=form.cleaned_data["summary"])
        messages.success(request, "Summary saved.")
        return redirect("advisory_manage", review.slug)
    return render(
        request,
        "advisory/manage/summary.html",
        {"review": review, "membership": membership, "space": space, "form": form},
        status=400 if form.is_bound else 200,
    )


# ------------------------------------------------------------------------------ a theme


def _theme_page(request, review, membership, theme, shared_theme, form, status=200):
    rows = (
        theme_excerpts(shared_theme)
        .select_related("document__study", "coder")
        .only(*EXCERPT_FIELDS)
        .order_by(
            "document__study__label",
            "document__study_id",
            "document__title",
            "document_id",
            "start",
            "id",
        )
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    coded = list(page.object_list)
    already = dict(
        SharedExcerpt.objects.filter(
            shared_theme=shared_theme, excerpt_id__in=[e.pk for e in coded]
        ).values_list("excerpt_id", "pk")
    )
    citations = citations_for({e.document.study_id for e in coded})
    for excerpt in coded:
        excerpt.citation = citations.get(excerpt.document.study_id, "")
        excerpt.shared_id = already.get(excerpt.pk)

    shared = list(
        SharedExcerpt.objects.filter(shared_theme=shared_theme)
        .select_related("excerpt__document__study")
        .only(
            "id",
            "position",
            "content_note",
            "shared_theme_id",
            "excerpt_id",
            "excerpt__id",
            "excerpt__text",
            "excerpt__document_id",
            "excerpt__document__id",
            "excerpt__document__study_id",
            "excerpt__document__study__id",
            "excerpt__document__study__label",
        )  # fmt: skip
        .annotate(comment_count=Count("comments"))
        .prefetch_related(Prefetch("redactions", queryset=Redaction.objects.order_by("start")))
        .order_by("position", "id")
    )
    for item in shared:
        item.display = display_text(item.excerpt.text, item.redactions.all())
    return render(
        request,
        "advisory/manage/theme.html",
        {
            "review": review,
            "membership": membership,
            "theme": theme,
            "shared_theme": shared_theme,
            "form": form,
            "shared_excerpts": shared,
            "page": page,
            "excerpts": coded,
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
def shared_theme_edit(request, slug, code_id):
    review, membership, _ = _lead_review(request, slug)
    theme = _get_theme(review, code_id)
    shared_theme = shared_theme_for(theme)
    form = SharedThemeForm(
        posted(request),
        initial={
            "plain_title": shared_theme.plain_title,
            "plain_description": shared_theme.plain_description,
            "content_note": shared_theme.content_note,
            "shared": shared_theme.shared,
        },
    )
    if not form.is_valid():
        status = 400 if form.is_bound else 200
        return _theme_page(request, review, membership, theme, shared_theme, form, status)
    was_shared = shared_theme.shared
    data = form.cleaned_data
    revision = update_shared_theme(
        shared_theme=shared_theme,
        user=request.user,
        plain_title=data["plain_title"],
        plain_description=data["plain_description"],
        content_note=data["content_note"],
        shared=data["shared"],
        reason=data["reason"],
    )
    said = [f"“{shared_theme.title}” saved."]
    if revision is not None:
        said.append("The change is in the theme's history.")
    if shared_theme.shared and not was_shared:
        said.append("The Advisory Group can see it now.")
    elif was_shared and not shared_theme.shared:
        said.append("The Advisory Group no longer sees it.")
    messages.success(request, " ".join(said))
    return redirect(_theme_url(review, theme.pk))


@require_POST
def shared_excerpt_add(request, slug, code_id):
    review, _, _ = _lead_review(request, slug)
    theme = _get_theme(review, code_id)
    form = ShareForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("Choose an excerpt to share.")
    shared_theme = shared_theme_for(theme)
    try:
        shared, made = share_excerpt(
            shared_theme=shared_theme, excerpt_id=form.cleaned_data["excerpt"], user=request.user
        )
    except SharingError as exc:
        raise Http404(str(exc)) from None
    if not made:
        messages.info(request, "That excerpt was already shared.")
    elif shared_theme.shared:
        messages.warning(
            request,
            "Shared: the Advisory Group can see this excerpt now. Check it for names and "
            "anything else that could identify someone, and remove them below.",
        )
    else:
        messages.success(
            request,
            "Shared. The group will see it when the theme is shared; first check it for "
            "names and anything else that could identify someone.",
        )
    return redirect(_shared_excerpt_url(review, shared.pk))


# ------------------------------------------------------------------------------ an excerpt


def _excerpt_page(request, review, membership, shared, *, form=None, redaction_form=None,
                  status=200):  # fmt: skip
    excerpt = shared.excerpt
    redactions = list(shared.redactions.order_by("start", "id"))
    for redaction in redactions:
        redaction.original = excerpt.text[redaction.start : redaction.end]
    study_id = excerpt.document.study_id
    return render(
        request,
        "advisory/manage/excerpt.html",
        {
            "review": review,
            "membership": membership,
            "shared": shared,
            "excerpt": excerpt,
            "theme": shared.shared_theme.theme,
            "shared_theme": shared.shared_theme,
            "citation": citations_for([study_id]).get(study_id, ""),
            "display": display_text(excerpt.text, redactions),
            "redactions": redactions,
            "comment_count": shared.comments.count(),
            "form": form or SharedExcerptForm(initial={"content_note": shared.content_note}),
            "redaction_form": redaction_form or RedactionForm(),
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
def shared_excerpt_edit(request, slug, shared_id):
    review, membership, _ = _lead_review(request, slug)
    shared = _get_shared_excerpt(review, shared_id)
    form = SharedExcerptForm(posted(request), initial={"content_note": shared.content_note})
    if form.is_valid():
        update_shared_excerpt(shared_excerpt=shared, content_note=form.cleaned_data["content_note"])
        messages.success(request, "Content note saved.")
        return redirect(_shared_excerpt_url(review, shared.pk))
    status = 400 if form.is_bound else 200
    return _excerpt_page(request, review, membership, shared, form=form, status=status)


@require_POST
def shared_excerpt_visibility(request, slug, shared_id):
    review, _, _ = _lead_review(request, slug)
    shared = _get_shared_excerpt(review, shared_id)
    visible = request.POST.get("visible") == "1"
    set_visible(shared_excerpt=shared, visible=visible)
    if visible:
        messages.success(request, "The quote is now shown to the Advisory Group.")
    else:
        messages.success(request, "The quote is hidden from the Advisory Group.")
    return redirect(_shared_excerpt_url(review, shared.pk))


@require_POST
def redaction_add(request, slug, shared_id):
    review, membership, _ = _lead_review(request, slug)
    shared = _get_shared_excerpt(review, shared_id)
    form = RedactionForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            made = redact(
                shared_excerpt=shared,
                quote=data["quote"],
                replacement=data["replacement"],
                occurrence=data["occurrence"],
            )
        except RedactionError as exc:
            form.add_error("quote", str(exc))
        else:
            times = "once" if len(made) == 1 else f"{len(made)} times"
            messages.success(request, f"Replaced {times} with “{made[0].replacement}”.")
            return redirect(_shared_excerpt_url(review, shared.pk, "group-sees"))
    return _excerpt_page(request, review, membership, shared, redaction_form=form, status=400)


@require_POST
def redaction_delete(request, slug, shared_id, redaction_id):
    review, _, _ = _lead_review(request, slug)
    shared = _get_shared_excerpt(review, shared_id)
    redaction = get_object_or_404(Redaction, pk=redaction_id, shared_excerpt=shared)
    original = shared.excerpt.text[redaction.start : redaction.end]
    remove_redaction(redaction=redaction)
    messages.success(request, f"The group sees “{original}” again.")
    return redirect(_shared_excerpt_url(review, shared.pk, "redactions"))


@require_http_methods(["GET", "POST"])
def shared_excerpt_unshare(request, slug, shared_id):
    """GET: what stopping would do, and the button (or why it cannot be done). POST: stop."""
    review, membership, _ = _lead_review(request, slug)
    shared = _get_shared_excerpt(review, shared_id)
    theme = shared.shared_theme.theme
    if request.method == "POST":
        try:
            unshare_excerpt(shared_excerpt=shared)
        except SharingError as exc:
            messages.error(request, str(exc))
            return redirect(_shared_excerpt_url(review, shared.pk))
        messages.success(request, "The excerpt is no longer shared with the group.")
        return redirect(_theme_url(review, theme.pk, "shared-excerpts"))
    return render(
        request,
        "advisory/manage/unshare.html",
        {
            "review": review,
            "membership": membership,
            "shared": shared,
            "theme": theme,
            "shared_theme": shared.shared_theme,
            "comment_count": shared.comments.count(),
        },
    )


@require_POST
def shared_excerpt_move(request, slug, shared_id):
    review, _, _ = _lead_review(request, slug)
    shared = _get_shared_excerpt(review, shared_id)
    form = MoveForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("Choose up or down.")
    try:
        move_shared_excerpt(shared_excerpt=shared, direction=form.cleaned_data["direction"])
    except SharingError as exc:
        messages.error(request, str(exc))
    return redirect(_theme_url(review, shared.shared_theme.theme_id, f"shared-{shared.pk}"))


urlpatterns = [
    path("manage/", advisory_manage, name="advisory_manage"),
    path("manage/summary/", advisory_summary_edit, name="advisory_summary_edit"),
    path("manage/themes/<int:code_id>/", shared_theme_edit, name="shared_theme_edit"),
    path("manage/themes/<int:code_id>/share/", shared_excerpt_add, name="shared_excerpt_add"),
    path("manage/excerpts/<int:shared_id>/", shared_excerpt_edit, name="shared_excerpt_edit"),
    path("manage/excerpts/<int:shared_id>/redactions/", redaction_add, name="redaction_add"),
    path(
        "manage/excerpts/<int:shared_id>/visibility/",
        shared_excerpt_visibility,
        name="shared_excerpt_visibility",
    ),  # fmt: skip
    path(
        "manage/excerpts/<int:shared_id>/redactions/<int:redaction_id>/delete/",
        redaction_delete,
        name="redaction_delete",
    ),
    path(
        "manage/excerpts/<int:shared_id>/unshare/",
        shared_excerpt_unshare,
        name="shared_excerpt_unshare",
    ),
    path("manage/excerpts/<int:shared_id>/move/", shared_excerpt_move, name="shared_excerpt_move"),
]
