"""Shared fixtures: a review with the named personas (a lead, two reviewers, an advisory
member) and an outsider who belongs to no review."""

import pytest

from reviewapp.models import Role

from .factories import MembershipFactory, ReviewFactory, UserFactory


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Every test's uploads and exports go to a folder of its own, deleted afterwards."""
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def review(db):
    return ReviewFactory(title="Avoidable harm review", slug="harm")


@pytest.fixture
def lead(review):
    return MembershipFactory(review=review, role=Role.LEAD, user__name="Lena Lead").user


@pytest.fixture
def reviewer(review):
    return MembershipFactory(review=review, role=Role.REVIEWER, user__name="Rita Reviewer").user


@pytest.fixture
def reviewer2(review):
    return MembershipFactory(review=review, role=Role.REVIEWER, user__name="Ravi Reviewer").user


@pytest.fixture
def advisory(review):
    return MembershipFactory(review=review, role=Role.ADVISORY, user__name="Ada Advisor").user


@pytest.fixture
def outsider(db):
    return UserFactory(name="Otto Outsider")


@pytest.fixture
def personas(lead, reviewer, advisory, outsider):
    return {"lead": lead, "reviewer": reviewer, "advisory": advisory, "outsider": outsider}


@pytest.fixture
def client_for(client):
    """client_for(user) returns the test client signed in as `user` (None: anonymous)."""

    def sign_in(user):
        client.logout()
        if user is not None:
            client.force_login(user)
        return client

    return sign_in


@pytest.fixture
def queries_of():
    """queries_of(client, url) -> how many SQL queries a GET of `url` makes (after one warm-up
    request, so session bookkeeping does not count twice)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count(client, url):
        client.get(url)
        with CaptureQueriesContext(connection) as ctx:
            client.get(url)
        return len(ctx.captured_queries)

    return count
