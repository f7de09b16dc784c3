import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import reverse

from .access import TwoFactorRequired

STARTED_KEY = "_session_started"
SEEN_KEY = "_session_seen"
# Writing the session on every request would cost a database write per page; a minute's
# precision is plenty for an inactivity timeout counted in tens of minutes.
SEEN_RESOLUTION = 60


class SessionLifetimeMiddleware:
    """Signs a user out after SESSION_IDLE_TIMEOUT seconds without a request, and in any
    case SESSION_ABSOLUTE_LIFETIME seconds after sign-in."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = int(time.time())
            started = request.session.setdefault(STARTED_KEY, now)
            seen = request.session.get(SEEN_KEY, now)
            idle = now - seen > settings.SESSION_IDLE_TIMEOUT
            too_old = now - started > settings.SESSION_ABSOLUTE_LIFETIME
            if idle or too_old:
                logout(request)
                reason = (
                    "You were signed out after a period without activity."
                    if idle
                    else "Your session reached its maximum length."
                )
                messages.info(request, f"{reason} Please sign in again.")
                return redirect(
                    f"{reverse('account_login')}?{urlencode({'next': request.get_full_path()})}"
                )
            if now - seen >= SEEN_RESOLUTION or SEEN_KEY not in request.session:
                request.session[SEEN_KEY] = now
        return self.get_response(request)


class TwoFactorRequiredMiddleware:
    """Sends a member of a review that requires two-factor to set it up first."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, TwoFactorRequired):
            return None
        messages.warning(
            request,
            f"“{exception.review.title}” requires two-factor authentication. "
            "Set it up below, then open the review again.",
        )
        return redirect("mfa_activate_totp")
