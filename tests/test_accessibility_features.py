"""Site-wide care features in base.html: the text size choice, the Help link and page, and
the keep-alive behind the session warning (static/js/session.js)."""

import re
import time

import pytest
from django.test import Client
from django.urls import reverse

from reviewapp.context_processors import TEXT_SIZE_COOKIE
from reviewapp.middleware import SEEN_KEY, STARTED_KEY
from reviewapp.views_care import TEXT_SIZE_COOKIE_AGE

pytestmark = pytest.mark.django_db

HELP_LINK = f'<a href="{reverse("help")}"'


def set_session(client, **values):
    session = client.session
    session.update(values)
    session.save()


# --- Text size ---------------------------------------------------------------------------


def test_text_size_sets_a_lasting_cookie_and_goes_back(client):
    response = client.post(reverse("text_size"), {"size": "larger", "next": "/help/?x=1#top"})
    assert response.status_code == 302
    assert response["Location"] == "/help/?x=1#top"
    cookie = response.cookies[TEXT_SIZE_COOKIE]
    assert cookie.value == "larger"
    assert cookie["max-age"] == TEXT_SIZE_COOKIE_AGE
    assert cookie["samesite"] == "Lax"
    assert cookie["path"] == "/"


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example/",
        "//evil.example/help/",
        "/\\evil.example/",
        "javascript:alert(1)",
        "",
    ],
)
def test_text_size_never_redirects_off_site(client, next_url):
    response = client.post(reverse("text_size"), {"size": "large", "next": next_url})
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert response.cookies[TEXT_SIZE_COOKIE].value == "large"


def test_text_size_rejects_an_unknown_size(client):
    response = client.post(reverse("text_size"), {"size": "huge", "next": "/help/"})
    assert response.status_code == 400
    assert TEXT_SIZE_COOKIE not in response.cookies


def test_text_size_is_post_only(client):
    assert client.get(reverse("text_size")).status_code == 405


def test_text_size_needs_the_csrf_token(db):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("text_size"), {"size": "large", "next": "/help/"})
    assert response.status_code == 403
    assert TEXT_SIZE_COOKIE not in response.cookies


def html_class(response):
    return re.search(r'<html lang="en-GB" class="([^"]*)">', response.content.decode()).group(1)


def pressed(response):
    """The label of the text size button marked aria-pressed="true" (exactly one)."""
    labels = re.findall(
        r'<button type="submit" name="size" value="\w+" aria-pressed="true">(\w+)</button>',
        response.content.decode(),
    )
    assert len(labels) == 1, labels
    return labels[0]


@pytest.mark.parametrize(
    "cookie, expected_class, expected_label",
    [
        (None, "text-standard", "Standard"),
        ("large", "text-large", "Large"),
        ("larger", "text-larger", "Larger"),
        ("gigantic", "text-standard", "Standard"),
    ],
)
def test_login_page_uses_the_chosen_size(client, cookie, expected_class, expected_label):
    if cookie is not None:
        client.cookies[TEXT_SIZE_COOKIE] = cookie
    response = client.get(reverse("account_login"))
    assert response.status_code == 200
    assert html_class(response) == expected_class
    assert pressed(response) == expected_label


def test_text_size_form_comes_back_to_the_same_page(client_for, review, advisory):
    client = client_for(advisory)
    client.cookies[TEXT_SIZE_COOKIE] = "large"
    response = client.get(review.get_absolute_url() + "?tab=1")
    assert html_class(response) == "text-large"
    assert pressed(response) == "Large"
    assert f'<form method="post" action="{reverse("text_size")}"' in response.content.decode()
    assert '<input type="hidden" name="next" value="/reviews/harm/?tab=1">' in (
        response.content.decode()
    )


# --- Help, in the same place on every page ------------------------------------------------


def header_of(response):
    page = response.content.decode()
    return page[page.index('<header class="site-header">') : page.index("</header>")]


@pytest.mark.parametrize("path", ["/accounts/login/", "/accounts/password/reset/", "/help/"])
def test_anonymous_pages_have_help_and_text_size_in_the_header(client, path):
    response = client.get(path)
    assert response.status_code == 200
    header = header_of(response)
    assert HELP_LINK in header
    assert 'aria-labelledby="text-size-label"' in header


@pytest.mark.parametrize(
    "persona, path",
    [
        ("advisory", "/"),
        ("advisory", "/reviews/harm/"),
        ("reviewer", "/reviews/harm/records/"),
        ("lead", "/reviews/harm/members/"),
        ("lead", "/help/"),
    ],
)
def test_signed_in_pages_have_help_and_text_size_in_the_header(client_for, personas, persona,
                                                               path):  # fmt: skip
    response = client_for(personas[persona]).get(path)
    assert response.status_code == 200
    header = header_of(response)
    assert HELP_LINK in header
    assert 'aria-labelledby="text-size-label"' in header
    # Always just before "Sign out", so it is in the same place relative to the rest.
    assert header.index(HELP_LINK) < header.index("Sign out") < header.index("text-size-label")


@pytest.mark.parametrize("persona", [None, "advisory", "lead"])
def test_help_page_speaks_to_everyone(client_for, personas, persona):
    response = client_for(personas[persona] if persona else None).get(reverse("help"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "<title>Help · reviewapp</title>" in page
    assert f'{HELP_LINK} aria-current="page">Help</a>' in page
    for heading in [
        "Making the text bigger",
        "For members of the Advisory Group",
        "Content notes: folding distressing content",
        "Taking a break or stopping",
        "Getting support",
    ]:
        assert heading in page
    assert "your review&#x27;s lead researcher" in page
    assert "Please do not post about a crisis in a comment." in page
    assert (
        "If you are in crisis, contact your GP, NHS 111, or Samaritans on "
        '<a href="tel:116123">116 123</a> (UK).'
    ) in page


def test_help_page_names_the_configured_support_contact(client, db, settings):
    settings.SUPPORT_CONTACT = "Sam Support (sam@example.org, 020 7946 0000)"
    page = client.get(reverse("help")).content.decode()
    assert "contact Sam Support (sam@example.org, 020 7946 0000)." in page
    assert "lead researcher" not in page


def test_help_page_is_get_only(client, db):
    assert client.post(reverse("help")).status_code == 405


# --- Session warning and keep-alive --------------------------------------------------------


def test_signed_in_pages_carry_the_session_timing(client_for, review, advisory, settings):
    client = client_for(advisory)
    now = int(time.time())
    set_session(client, **{STARTED_KEY: now - 600, SEEN_KEY: now - 30})
    page = client.get(review.get_absolute_url()).content.decode()
    body = re.search(r"<body ([^>]*)>", page).group(1)
    attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', body))
    assert attrs["data-idle-timeout"] == str(settings.SESSION_IDLE_TIMEOUT)
    # 30 seconds have gone since the middleware last moved "seen" (it moves once a minute).
    idle_left, session_left = int(attrs["data-idle-left"]), int(attrs["data-session-left"])
    assert settings.SESSION_IDLE_TIMEOUT - 32 <= idle_left <= settings.SESSION_IDLE_TIMEOUT - 30
    assert (
        settings.SESSION_ABSOLUTE_LIFETIME - 602
        <= session_left
        <= settings.SESSION_ABSOLUTE_LIFETIME - 600
    )
    assert attrs["data-draft-scope"] == str(advisory.pk)
    assert '<dialog id="session-warning"' in page
    assert f'action="{reverse("session_keep_alive")}"' in page
    assert "Stay signed in" in page
    assert "data-clears-drafts" in page


def test_anonymous_pages_have_no_session_warning(client, db):
    page = client.get(reverse("account_login")).content.decode()
    assert "data-idle-timeout" not in page
    assert '<dialog id="session-warning"' not in page
    assert 'data-draft-scope="0"' in page


def test_keep_alive_restarts_the_idle_clock(client_for, reviewer):
    client = client_for(reviewer)
    now = int(time.time())
    # Within the middleware's one-minute resolution: an ordinary request would not move it.
    set_session(client, **{STARTED_KEY: now - 600, SEEN_KEY: now - 50})
    before = int(time.time())
    response = client.post(reverse("session_keep_alive"))
    assert response.status_code == 204
    assert response.content == b""
    assert before <= client.session[SEEN_KEY] <= int(time.time())
    assert client.session[STARTED_KEY] == now - 600


def test_keep_alive_needs_a_signed_in_user(client, db):
    response = client.post(reverse("session_keep_alive"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_keep_alive_cannot_revive_an_expired_session(client_for, reviewer, settings):
    client = client_for(reviewer)
    now = int(time.time())
    set_session(
        client, **{STARTED_KEY: now - 600, SEEN_KEY: now - settings.SESSION_IDLE_TIMEOUT - 5}
    )
    response = client.post(reverse("session_keep_alive"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert "_auth_user_id" not in client.session


def test_keep_alive_is_post_only(client_for, reviewer):
    assert client_for(reviewer).get(reverse("session_keep_alive")).status_code == 405


def test_keep_alive_needs_the_csrf_token(reviewer):
    client = Client(enforce_csrf_checks=True)
    client.force_login(reviewer)
    assert client.post(reverse("session_keep_alive")).status_code == 403
