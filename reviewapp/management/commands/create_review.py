from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.text import slugify

from reviewapp import services
from reviewapp.accounts import ensure_user
from reviewapp.models import Review


class Command(BaseCommand):
    help = "Create a review with a lead (the lead's account is created if it does not exist)."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="Short name used in the review's web address.")
        parser.add_argument("--title", required=True)
        parser.add_argument("--lead", required=True, metavar="EMAIL")
        parser.add_argument("--question", default="", help="The review question.")

    def handle(self, *args, slug, title, lead, question, **options):
        if slugify(slug) != slug:
            raise CommandError(
                f"{slug!r} is not a valid slug: use lower-case letters, digits "
                f"and hyphens (e.g. {slugify(slug) or 'my-review'!r})."
            )
        try:
            validate_email(lead)
        except ValidationError as exc:
            raise CommandError(f"{lead!r} is not a valid email address.") from exc
        if Review.objects.filter(slug=slug).exists():
            raise CommandError(f"A review with slug {slug!r} already exists.")
        with transaction.atomic():
            user, created = ensure_user(lead)
            review = services.create_review(user=user, title=title, slug=slug, question=question)
        self.stdout.write(f"Created review {review.slug!r} with lead {user.email}.")
        if created:
            self.stdout.write(
                f"A new account was created for {user.email} without a password. Set one with\n"
                f"  python manage.py changepassword {user.email}\n"
                "or use “Forgot your password?” on the sign-in page."
            )
