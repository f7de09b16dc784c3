"""Site-wide care: the help page, the text size choice, and the keep-alive that lets a
person who was warned stay signed in (static/js/session.js)."""

import time

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from .context_processors import TEXT_SIZE_COOKIE, TEXT_SIZES
from .middleware import SEEN_KEY

# A choice of text size should outlast any session: it is about the reader, not the visit.
TEXT_SIZE_COOKIE_AGE = 365 * 24 * 3600


@login_not_required
@require_GET
def help_page(request):
    return render(request, "reviewapp/help.html", {"support_contact": settings.SUPPORT_CONTACT})


@login_not_required
@require_POST
def text_size(request):
    """Remember the chosen text size in a cookie, then go back to the page it was chosen on.

    The cookie holds only "standard", "large" or "larger", so it needs no consent and no
    sign-in: the login page can be read at a large size too.
    """
    size = request.POST.get("size")
    if size not in dict(TEXT_SIZES):
        return HttpResponseBadRequest("Choose one of the listed text sizes.")
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = reverse("home")
    response = redirect(next_url)
    response.set_cookie(
        TEXT_SIZE_COOKIE,
        size,
        max_age=TEXT_SIZE_COOKIE_AGE,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )
    return response


@never_cache
@require_POST
def session_keep_alive(request):
    """Restart the inactivity clock now (204, no body).

    SessionLifetimeMiddleware moves the "seen" time at most once a minute; someone who
    pressed "Stay signed in" must get the whole timeout back, so this sets it outright.
    An anonymous or already signed-out caller never gets here (LoginRequiredMiddleware and
    the lifetime middleware redirect to the login page), which session.js reads as "signed out".
    """
    request.session[SEEN_KEY] = int(time.time())
    return HttpResponse(status=204)
