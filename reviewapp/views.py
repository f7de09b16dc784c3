from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import services
from .access import can_see_member_emails, get_review_for, is_lead, posted
from .forms import InvitationForm, ReviewCreateForm, ReviewSettingsForm, RoleForm
from .invitations import SESSION_KEY, InvalidInvitation, make_token, read_token
from .models import Invitation, Membership
from .queries import members_of, pending_invitations, review_standing
from .standing import panels_for


@require_GET
def home(request):
    memberships = (
        Membership.objects.filter(user=request.user)
        .select_related("review")
        .order_by("review__title")
    )
    return render(request, "reviewapp/home.html", {"memberships": memberships})


@require_http_methods(["GET", "POST"])
def review_create(request):
    form = ReviewCreateForm(posted(request))
    if request.method == "POST" and form.is_valid():
        review = services.create_review(user=request.user, **form.cleaned_data)
        messages.success(request, f"Review “{review.title}” created. You are its lead.")
        return redirect(review)
    return render(request, "reviewapp/review_create.html", {"form": form})


@require_GET
def review_detail(request, slug):
    review, membership = get_review_for(request, slug)
    return render(
        request,
        "reviewapp/review_detail.html",
        {
            "review": review,
            "membership": membership,
            "members": members_of(review),
            "show_emails": can_see_member_emails(membership),
            "standing": review_standing(review, membership),
            "panels": panels_for(request, review, membership),
        },
    )


@require_http_methods(["GET", "POST"])
def review_settings(request, slug):
    review, membership = get_review_for(request, slug, need=is_lead)
    form = ReviewSettingsForm(posted(request), instance=review)
    if request.method == "POST" and form.is_valid():
        services.update_review(review=review, fields=form.cleaned_data)
        messages.success(request, "Review settings saved.")
        return redirect(review)
    return render(
        request,
        "reviewapp/review_settings.html",
        {"review": review, "membership": membership, "form": form},
    )


@require_http_methods(["GET", "POST"])
def members(request, slug):
    review, membership = get_review_for(request, slug, need=is_lead)
    form = InvitationForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            invitation = services.invite_member(
                review=review, invited_by=request.user, **form.cleaned_data
            )
        except services.InvitationError as exc:
            form.add_error("email", str(exc))
        else:
            messages.success(request, f"Invitation sent to {invitation.email}.")
            return redirect("members", slug=review.slug)
    invitations = [
        (inv, request.build_absolute_uri(reverse("invitation_accept", args=[make_token(inv)])))
        for inv in pending_invitations(review)
    ]
    return render(
        request,
        "reviewapp/members.html",
        {
            "review": review,
            "membership": membership,
            "form": form,
            "members": members_of(review),
            "invitations": invitations,
            "role_choices": RoleForm.base_fields["role"].choices,
        },
        status=400 if form.errors else 200,
    )


@require_POST
def member_role(request, slug, member_id):
    review, _ = get_review_for(request, slug, need=is_lead)
    target = get_object_or_404(Membership, pk=member_id, review=review)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose one of the listed roles.")
    else:
        try:
            services.change_role(membership=target, role=form.cleaned_data["role"])
        except services.LastLeadError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"{target.user} is now {target.get_role_display()}.")
    return redirect("members", slug=review.slug)


@require_POST
def member_remove(request, slug, member_id):
    review, _ = get_review_for(request, slug, need=is_lead)
    target = get_object_or_404(Membership, pk=member_id, review=review)
    try:
        services.remove_member(membership=target)
    except services.LastLeadError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{target.user} was removed from the review.")
    if target.user_id == request.user.id:
        return redirect("home")
    return redirect("members", slug=review.slug)


@require_POST
def invitation_revoke(request, slug, invitation_id):
    review, _ = get_review_for(request, slug, need=is_lead)
    invitation = get_object_or_404(Invitation, pk=invitation_id, review=review)
    services.revoke_invitation(invitation)
    messages.success(request, f"The invitation to {invitation.email} was withdrawn.")
    return redirect("members", slug=review.slug)


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def invitation_accept(request, token):
    try:
        invitation = read_token(token)
    except InvalidInvitation as exc:
        request.session.pop(SESSION_KEY, None)
        return render(
            request, "reviewapp/invitation_invalid.html", {"reason": str(exc)}, status=410
        )
    if not request.user.is_authenticated:
        # Remembered so the sign-up form opens for exactly this address (reviewapp.adapters).
        request.session[SESSION_KEY] = token
        return render(request, "reviewapp/invitation_accept.html", {"invitation": invitation})
    error = None
    if request.method == "POST":
        try:
            membership = services.accept_invitation(invitation=invitation, user=request.user)
        except services.InvitationError as exc:
            error = str(exc)
        else:
            request.session.pop(SESSION_KEY, None)
            messages.success(
                request,
                f"Welcome to “{membership.review.title}”. "
                f"You joined as {membership.get_role_display()}.",
            )
            return redirect(membership.review)
    elif request.user.email.lower() != invitation.email.lower():
        error = (
            f"This invitation was sent to {invitation.email}, but you are signed in as "
            f"{request.user.email}. Sign out and sign in with the invited address."
        )
    return render(
        request,
        "reviewapp/invitation_accept.html",
        {"invitation": invitation, "error": error},
        status=400 if error and request.method == "POST" else 200,
    )


@login_not_required
@never_cache
@require_GET
def healthz(request):
    from django.conf import settings

    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means the database is down
        checks["database"] = f"error: {exc.__class__.__name__}"
    if settings.REDIS_URL:
        checks["broker"] = _broker_status()
    else:
        checks["broker"] = "not configured (tasks run eagerly)"
    healthy = all(v == "ok" or v.startswith("not configured") for v in checks.values())
    checks["status"] = "ok" if healthy else "error"
    return JsonResponse(checks, status=200 if healthy else 503)


def _broker_status():
    from .celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means the broker is unreachable
        return f"error: {exc.__class__.__name__}"
