import pytest
from django.urls import reverse

from reviewapp.models import Membership, Review, Role

from .factories import MembershipFactory, ReviewFactory, UserFactory


def test_any_signed_in_user_creates_a_review_and_becomes_its_lead(client_for, outsider):
    response = client_for(outsider).post(
        reverse("review_create"),
        {"title": "Harm in social care", "slug": "", "question": "What harm?", "description": "D"},
    )
    review = Review.objects.get()
    assert response.status_code == 302
    assert response["Location"] == review.get_absolute_url()
    assert (review.title, review.slug, review.question, review.created_by) == (
        "Harm in social care",
        "harm-in-social-care",
        "What harm?",
        outsider,
    )
    assert list(review.memberships.values_list("user", "role")) == [(outsider.pk, Role.LEAD)]


def test_slug_made_from_title_is_unique(client_for, outsider):
    ReviewFactory(title="Harm", slug="harm")
    client_for(outsider).post(reverse("review_create"), {"title": "Harm"})
    assert Review.objects.filter(slug="harm-2").exists()


def test_taken_slug_is_refused_with_a_message(client_for, outsider):
    ReviewFactory(slug="taken")
    response = client_for(outsider).post(
        reverse("review_create"), {"title": "New", "slug": "taken"}
    )
    assert response.status_code == 200
    assert "Another review already uses this short name." in response.content.decode()
    assert Review.objects.count() == 1


def test_home_lists_my_reviews_with_my_role_and_not_others(client_for, review, reviewer):
    MembershipFactory(user=reviewer, role=Role.ADVISORY, review__title="Second review")
    ReviewFactory(title="Not mine")
    response = client_for(reviewer).get(reverse("home"))
    rows = [(m.review.title, m.role) for m in response.context["memberships"]]
    assert rows == [("Avoidable harm review", Role.REVIEWER), ("Second review", Role.ADVISORY)]
    assert "Not mine" not in response.content.decode()


def test_home_query_count_does_not_grow_with_reviews(
    db, client_for, queries_of, django_assert_num_queries
):
    user = UserFactory()
    MembershipFactory(user=user)
    client = client_for(user)
    with_one = queries_of(client, reverse("home"))
    assert with_one <= 8
    MembershipFactory.create_batch(5, user=user)
    with django_assert_num_queries(with_one):
        client.get(reverse("home"))


def test_review_page_shows_members_and_standing(client_for, review, lead, reviewer, advisory):
    response = client_for(reviewer).get(review.get_absolute_url())
    page = response.content.decode()
    for name in ("Lena Lead", "Rita Reviewer", "Ada Advisor"):
        assert name in page
    assert dict(response.context["standing"])["Team"] == (
        "1 lead(s), 1 reviewer(s), 1 Advisory Group member(s)"
    )


@pytest.mark.parametrize(
    ("persona", "sees_emails"), [("lead", True), ("reviewer", False), ("advisory", False)]
)
def test_only_leads_see_member_email_addresses(client_for, review, personas, persona, sees_emails):
    page = client_for(personas[persona]).get(review.get_absolute_url()).content.decode()
    others = [u for p, u in personas.items() if p not in (persona, "outsider")]
    assert all((u.email in page) == sees_emails for u in others)


def test_review_page_query_count_is_pinned(
    client_for, review, lead, queries_of, django_assert_num_queries
):
    client = client_for(lead)
    with_one = queries_of(client, review.get_absolute_url())
    assert with_one <= 24
    MembershipFactory.create_batch(6, review=review)
    with django_assert_num_queries(with_one):
        client.get(review.get_absolute_url())


def test_lead_edits_settings(client_for, review, lead):
    response = client_for(lead).post(
        reverse("review_settings", args=[review.slug]),
        {"title": "New title", "question": "Q2", "description": "D2", "require_two_factor": "on"},
    )
    review.refresh_from_db()
    assert response.status_code == 302
    assert (review.title, review.question, review.description, review.require_two_factor) == (
        "New title",
        "Q2",
        "D2",
        True,
    )


def test_settings_reject_empty_title(client_for, review, lead):
    response = client_for(lead).post(reverse("review_settings", args=[review.slug]), {"title": ""})
    review.refresh_from_db()
    assert response.status_code == 200
    assert review.title == "Avoidable harm review"


def test_review_without_membership_rows_is_hidden_from_staff_too(client_for, review):
    admin = UserFactory(is_staff=True, is_superuser=True)
    assert client_for(admin).get(review.get_absolute_url()).status_code == 404
    assert not Membership.objects.filter(user=admin).exists()
