import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

from reviewapp.demo import DEMO_SLUG
from reviewapp.models import Membership, Review, Role, User

from .factories import UserFactory


def test_create_review_creates_the_lead_account(db, capsys):
    call_command("create_review", "harm", "--title", "Harm review", "--lead", "lead@example.org")
    review = Review.objects.get(slug="harm")
    lead = User.objects.get(email="lead@example.org")
    assert review.title == "Harm review"
    assert list(review.memberships.values_list("user", "role")) == [(lead.pk, Role.LEAD)]
    assert not lead.has_usable_password()
    out = capsys.readouterr().out
    assert "Created review 'harm' with lead lead@example.org." in out
    assert "changepassword lead@example.org" in out


def test_create_review_uses_an_existing_account(db, capsys):
    user = UserFactory(email="known@example.org")
    call_command("create_review", "r2", "--title", "T", "--lead", "known@example.org")
    assert Membership.objects.get().user == user
    assert "without a password" not in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["Bad Slug", "--title", "T", "--lead", "a@example.org"], "not a valid slug"),
        (["ok", "--title", "T", "--lead", "nope"], "not a valid email"),
    ],
)
def test_create_review_rejects_bad_arguments(db, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("create_review", *args)
    assert not Review.objects.exists()


def test_create_review_refuses_a_taken_slug(db):
    call_command("create_review", "dup", "--title", "T", "--lead", "a@example.org")
    with pytest.raises(CommandError, match="already exists"):
        call_command("create_review", "dup", "--title", "T", "--lead", "b@example.org")
    assert not User.objects.filter(email="b@example.org").exists()


def test_seed_demo_is_idempotent_and_prints_passwords(db, capsys):
    call_command("seed_demo")
    call_command("seed_demo")
    review = Review.objects.get(slug=DEMO_SLUG)
    assert Review.objects.count() == 1
    roles = sorted(review.memberships.values_list("role", flat=True))
    # Seven Advisory Group members, as in the seed; six of them never sign in (no password).
    assert roles == ["advisory"] * 7 + ["lead", "reviewer", "reviewer"]
    assert "Carr" not in review.title and "scoping review" in review.description
    out = capsys.readouterr().out
    assert "lead@demo.example" in out and "password: demo-lead-password" in out
    assert authenticate(email="lead@demo.example", password="demo-lead-password") is not None


def test_demo_users_can_sign_in_through_the_login_page(client, db):
    call_command("seed_demo")
    response = client.post(
        "/accounts/login/", {"login": "advisory@demo.example", "password": "demo-advisory-password"}
    )
    assert response.status_code == 302
    assert client.get(f"/reviews/{DEMO_SLUG}/").status_code == 200
