import time

from django.urls import reverse

from reviewapp.middleware import SEEN_KEY, STARTED_KEY


def set_session(client, **values):
    session = client.session
    session.update(values)
    session.save()


def test_inactive_session_is_signed_out(client_for, review, reviewer, settings):
    client = client_for(reviewer)
    now = int(time.time())
    set_session(
        client, **{STARTED_KEY: now - 100, SEEN_KEY: now - settings.SESSION_IDLE_TIMEOUT - 5}
    )
    response = client.get(review.get_absolute_url())
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert "_auth_user_id" not in client.session
    page = client.get(response["Location"]).content.decode()
    assert "without activity" in page


def test_session_past_its_absolute_lifetime_is_signed_out(client_for, review, reviewer, settings):
    client = client_for(reviewer)
    now = int(time.time())
    set_session(
        client, **{STARTED_KEY: now - settings.SESSION_ABSOLUTE_LIFETIME - 5, SEEN_KEY: now}
    )
    response = client.get(review.get_absolute_url())
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_active_session_continues_and_records_activity(client_for, review, reviewer, settings):
    client = client_for(reviewer)
    now = int(time.time())
    set_session(client, **{STARTED_KEY: now - 1000, SEEN_KEY: now - 120})
    assert client.get(review.get_absolute_url()).status_code == 200
    assert client.session[SEEN_KEY] >= now


def test_sessions_page_lists_my_sessions(client, db):
    from .factories import PASSWORD, UserFactory

    user = UserFactory()
    client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    page = client.get(reverse("usersessions_list"))
    assert page.status_code == 200
    assert user.usersession_set.count() == 1
