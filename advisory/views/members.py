"""What every member of the review sees of the Advisory Group's space: the plain-language
summary, the shared themes with their shared excerpts and comment threads, each member's own
feedback and what became of it, and each theme's history.

Advisory members reach only shared themes and shared excerpts (404 otherwise); nothing here
shows an email address (names come from access.public_names).
"""

from django import forms
from django.contrib import messages
from django.db.models import Count, Prefetch, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_http_methods

from coding.models import ThemeRevision
from coding.revisions import changes

from ..access import (
    can_respond,
    get_advisory_review,
    get_shared_excerpt_for,
    get_theme_for,
    public_names,
    sees_unshared,
    visible_excerpts,
    visible_themes,
)
from ..comments import MAX_LENGTH, CommentError, edit_comment, post_comment, respond
from ..comments import withdraw_comment as withdraw
from ..models import Comment, CommentResponse, Preference, Redaction
from ..redaction import display_text


def _preference(membership):
    return Preference.objects.filter(membership=membership).first() or Preference(
        membership=membership
    )


@require_GET
def advisory_home(request, slug):
    review, membership, space = get_advisory_review(request, slug)
    themes = list(
        visible_themes(review, membership).annotate(
            excerpt_count=Count(
                "excerpts",
                filter=Q() if sees_unshared(membership) else Q(excerpts__visible=True),
                distinct=True,
            ),
            comment_count=Count("comments", filter=Q(comments__withdrawn_at=None), distinct=True),
        )
    )
    return render(
        request,
        "advisory/home.html",
        {"review": review, "membership": membership, "space": space, "themes": themes},
    )


class CommentForm(forms.Form):
    body = forms.CharField(
        label="Your comment",
        max_length=MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Plain text. Web links become clickable. Please leave out anything that "
        "could identify someone.",
    )


class ResponseForm(forms.Form):
    text = forms.CharField(label="What the team did, or why nothing changed",
                           widget=forms.Textarea(attrs={"rows": 3}))  # fmt: skip
    changed = forms.TypedChoiceField(
        label="Did something change because of this comment?",
        choices=[("yes", "Yes, something changed"), ("no", "No, nothing changed")],
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
    )
    revision = forms.ModelChoiceField(
        label="The change to the theme it led to (optional)",
        queryset=ThemeRevision.objects.none(),
        required=False,
        empty_label="No linked change",
    )

    def __init__(self, *args, theme, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["revision"]
        field.queryset = ThemeRevision.objects.filter(theme=theme).order_by("-created_at", "-id")
        field.label_from_instance = lambda r: (
            f"{r.created_at:%d %b %Y %H:%M}: {r.reason or 'no reason given'}"[:120]
        )


def _threads(comments):
    """{(excerpt id or None): [top-level comments]} with `.children` on each comment."""
    by_parent = {}
    for comment in comments:
        by_parent.setdefault(comment.parent_id, []).append(comment)
    for comment in comments:
        comment.children = by_parent.get(comment.pk, [])
    threads = {}
    for comment in by_parent.get(None, []):
        threads.setdefault(comment.shared_excerpt_id, []).append(comment)
    return threads


def _theme_context(request, review, membership, theme):
    excerpts = list(
        visible_excerpts(theme, membership)
        .select_related("excerpt__document__study")
        .only(
            "content_note",
            "position",
            "shared_theme_id",
            "excerpt__text",
            "excerpt__document__study__label",
        )  # fmt: skip
        .prefetch_related(Prefetch("redactions", queryset=Redaction.objects.order_by("start")))
    )
    for number, shared in enumerate(excerpts, 1):
        shared.display = display_text(shared.excerpt.text, shared.redactions.all())
        shared.field_id = f"comment-excerpt-{shared.pk}"
        shared.form_label = f"Your comment on quote {number}"
    comments = list(
        Comment.objects.filter(shared_theme=theme)
        .select_related("response")
        .prefetch_related("edits")
        .order_by("created_at", "id")
    )
    people = {c.author_id for c in comments if c.author_id}
    people |= {c.response.author_id for c in comments if _has_response(c) and c.response.author_id}
    names = public_names(review, people)
    for comment in comments:
        comment.author_name = names.get(comment.author_id, "A former member")
        comment.mine = comment.author_id == request.user.pk
        if _has_response(comment):
            comment.response.author_name = names.get(comment.response.author_id, "The team")
    threads = _threads(comments)
    for shared in excerpts:
        shared.thread = threads.get(shared.pk, [])
    return {
        "review": review,
        "membership": membership,
        "theme": theme,
        "excerpts": excerpts,
        "thread": threads.get(None, []),
        "fold": _preference(membership).fold_content_notes,
        "comment_form": CommentForm(),
        "can_respond": can_respond(membership),
        "max_length": MAX_LENGTH,
    }


def _has_response(comment):
    try:
        return comment.response is not None
    except CommentResponse.DoesNotExist:
        return False


@require_GET
def advisory_theme(request, slug, theme_id):
    review, membership, _ = get_advisory_review(request, slug)
    theme = get_theme_for(review, membership, theme_id)
    return render(
        request, "advisory/theme.html", _theme_context(request, review, membership, theme)
    )


@require_http_methods(["GET", "POST"])
def comment_create(request, slug, theme_id):
    """POST: send a comment (on the theme, on an excerpt, or as a reply). GET, or a POST
    that cannot be sent: a page with just that form (what it answers shown above it), so
    a reply or a correction never loses the text typed."""
    review, membership, _ = get_advisory_review(request, slug)
    theme = get_theme_for(review, membership, theme_id)
    source = request.POST if request.method == "POST" else request.GET
    excerpt = parent = None
    if source.get("parent"):
        parent = get_object_or_404(Comment, pk=source["parent"], shared_theme=theme)
    elif source.get("excerpt"):
        excerpt = get_shared_excerpt_for(theme, source["excerpt"], membership)
    form = CommentForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            comment = post_comment(
                shared_theme=theme,
                author=request.user,
                body=form.cleaned_data["body"],
                shared_excerpt=excerpt,
                parent=parent,
            )
        except CommentError as exc:
            form.add_error("body", str(exc))
        else:
            messages.success(request, "Thank you. Your comment has been sent.")
            url = reverse("advisory_theme", args=[review.slug, theme.pk])
            return redirect(f"{url}#comment-{comment.pk}")
    if parent is not None:
        parent.author_name = public_names(review, [parent.author_id]).get(parent.author_id)
    if excerpt is not None:
        excerpt.display = display_text(excerpt.excerpt.text, excerpt.redactions.all())
    return render(
        request,
        "advisory/comment_new.html",
        {
            "review": review,
            "membership": membership,
            "theme": theme,
            "parent": parent,
            "excerpt": excerpt,
            "form": form,
            "fold": _preference(membership).fold_content_notes,
        },
        status=400 if request.method == "POST" else 200,
    )


def _own_comment(request, review, membership, comment_id):
    comment = get_object_or_404(
        Comment.objects.select_related("shared_theme"), pk=comment_id, review=review
    )
    # A comment on a theme the member cannot see does not exist for them.
    get_theme_for(review, membership, comment.shared_theme_id)
    return comment


@require_http_methods(["GET", "POST"])
def comment_edit(request, slug, comment_id):
    review, membership, _ = get_advisory_review(request, slug)
    comment = _own_comment(request, review, membership, comment_id)
    if comment.author_id != request.user.pk or comment.withdrawn:
        return render(request, "advisory/not_yours.html",
                      {"review": review, "membership": membership}, status=403)  # fmt: skip
    form = CommentForm(request.POST or None, initial={"body": comment.body})
    if request.method == "POST" and form.is_valid():
        try:
            edit_comment(comment=comment, user=request.user, body=form.cleaned_data["body"])
        except CommentError as exc:
            form.add_error("body", str(exc))
        else:
            messages.success(request, "Your comment has been updated. The earlier wording is "
                             "kept in its history.")  # fmt: skip
            url = reverse("advisory_theme", args=[review.slug, comment.shared_theme_id])
            return redirect(f"{url}#comment-{comment.pk}")
    return render(
        request,
        "advisory/comment_edit.html",
        {"review": review, "membership": membership, "comment": comment, "form": form},
        status=400 if request.method == "POST" else 200,
    )


@require_http_methods(["GET", "POST"])
def comment_withdraw(request, slug, comment_id):
    review, membership, _ = get_advisory_review(request, slug)
    comment = _own_comment(request, review, membership, comment_id)
    if comment.author_id != request.user.pk or comment.withdrawn:
        return render(request, "advisory/not_yours.html",
                      {"review": review, "membership": membership}, status=403)  # fmt: skip
    if request.method == "POST":
        withdraw(comment=comment, user=request.user)
        messages.success(request, "Your comment has been withdrawn. Its text is gone; replies "
                         "to it stay in the conversation.")  # fmt: skip
        url = reverse("advisory_theme", args=[review.slug, comment.shared_theme_id])
        return redirect(f"{url}#comment-{comment.pk}")
    return render(
        request,
        "advisory/comment_withdraw.html",
        {"review": review, "membership": membership, "comment": comment},
    )


@require_http_methods(["GET", "POST"])
def comment_respond(request, slug, comment_id):
    review, membership, _ = get_advisory_review(request, slug, need=can_respond)
    comment = get_object_or_404(
        Comment.objects.select_related("shared_theme__theme"), pk=comment_id, review=review
    )
    existing = CommentResponse.objects.filter(comment=comment).first()
    initial = (
        {"text": existing.text, "changed": "yes" if existing.changed else "no",
         "revision": existing.revision_id}
        if existing else {}
    )  # fmt: skip
    form = ResponseForm(request.POST or None, initial=initial, theme=comment.shared_theme.theme)
    if request.method == "POST" and form.is_valid():
        try:
            respond(
                comment=comment,
                author=request.user,
                text=form.cleaned_data["text"],
                changed=form.cleaned_data["changed"],
                revision=form.cleaned_data["revision"],
            )
        except CommentError as exc:
            form.add_error("text", str(exc))
        else:
            messages.success(request, "Your response is saved; the member sees it on their "
                             "feedback page.")  # fmt: skip
            url = reverse("advisory_theme", args=[review.slug, comment.shared_theme_id])
            return redirect(f"{url}#comment-{comment.pk}")
    names = public_names(review, [comment.author_id] if comment.author_id else [])
    return render(
        request,
        "advisory/comment_respond.html",
        {
            "review": review,
            "membership": membership,
            "comment": comment,
            "author_name": names.get(comment.author_id, "A former member"),
            "form": form,
        },
        status=400 if request.method == "POST" else 200,
    )


@require_GET
def advisory_feedback(request, slug):
    review, membership, _ = get_advisory_review(request, slug)
    visible = visible_themes(review, membership).values_list("pk", flat=True)
    comments = list(
        Comment.objects.filter(review=review, author=request.user, shared_theme__in=visible)
        .select_related("shared_theme__theme", "response__revision")
        .order_by("-created_at", "-id")
    )
    answered = sum(1 for c in comments if _has_response(c))
    return render(
        request,
        "advisory/feedback.html",
        {
            "review": review,
            "membership": membership,
            "comments": comments,
            "answered": answered,
            "changed": sum(1 for c in comments if _has_response(c) and c.response.changed),
        },
    )


@require_GET
def theme_history(request, slug, theme_id):
    review, membership, _ = get_advisory_review(request, slug)
    theme = get_theme_for(review, membership, theme_id)
    revisions = list(
        ThemeRevision.objects.filter(theme=theme.theme).prefetch_related(
            Prefetch(
                "responses",
                queryset=CommentResponse.objects.select_related("comment").filter(
                    comment__shared_theme=theme
                ),
            )
        )
    )
    names = public_names(review, {r.author_id for r in revisions if r.author_id})
    for revision in revisions:
        revision.author_name = names.get(revision.author_id, "A former member")
        revision.changes = changes(revision)
        revision.prompted_by = [r.comment for r in revision.responses.all()]
    return render(
        request,
        "advisory/history.html",
        {"review": review, "membership": membership, "theme": theme, "revisions": revisions},
    )


urlpatterns = [
    path("", advisory_home, name="advisory_home"),
    path("themes/<int:theme_id>/", advisory_theme, name="advisory_theme"),
    path("themes/<int:theme_id>/comments/", comment_create, name="comment_create"),
    path("themes/<int:theme_id>/history/", theme_history, name="theme_history"),
    path("comments/<int:comment_id>/edit/", comment_edit, name="comment_edit"),
    path("comments/<int:comment_id>/withdraw/", comment_withdraw, name="comment_withdraw"),
    path("comments/<int:comment_id>/respond/", comment_respond, name="comment_respond"),
    path("feedback/", advisory_feedback, name="advisory_feedback"),
]
