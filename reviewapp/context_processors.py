"""What base.html needs on every page: the reader's text size, and for a signed-in user how
long the session has left (static/js/session.js warns before it ends)."""

import time

from django.conf import settings

from .middleware import SEEN_KEY, STARTED_KEY

TEXT_SIZE_COOKIE = "text_size"
# (value, label): the value names the class base.html puts on <html> (static/css/app.css).
TEXT_SIZES = [("standard", "Standard"), ("large", "Large"), ("larger", "Larger")]
DEFAULT_TEXT_SIZE = "standard"


def text_size_of(request):
    """The size the reader chose, or the default for a missing or unknown cookie."""
    size = request.COOKIES.get(TEXT_SIZE_COOKIE)
    return size if size in dict(TEXT_SIZES) else DEFAULT_TEXT_SIZE


def text_size(request):
    return {"text_size": text_size_of(request), "text_sizes": TEXT_SIZES}


def session_timing(request):
    """Seconds until SessionLifetimeMiddleware signs the user out, counted from this render.

    `idle_left` is exact rather than `idle_timeout`: the middleware moves the "seen" time
    only once a minute, so a page can be rendered up to a minute after it last moved.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"session_timing": None}
    now = int(time.time())
    seen = request.session.get(SEEN_KEY, now)
    started = request.session.get(STARTED_KEY, now)
    return {
        "session_timing": {
            "idle_timeout": settings.SESSION_IDLE_TIMEOUT,
            "idle_left": max(0, settings.SESSION_IDLE_TIMEOUT - (now - seen)),
            "session_left": max(0, settings.SESSION_ABSOLUTE_LIFETIME - (now - started)),
        }
    }
