from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from exports.restore import RestoreError, restore_archive


class Command(BaseCommand):
    help = (
        "Restore a review archive (the “archive” export) as a new review. Prints the new "
        "review's slug as the last line."
    )

    def add_arguments(self, parser):
        parser.add_argument("archive", help="The archive's .zip file.")
        parser.add_argument(
            "--user",
            metavar="EMAIL",
            help="An existing account to make a lead of the new review (otherwise only the "
            "archive's own memberships).",
        )

    def handle(self, *args, archive, user=None, **options):
        account = None
        if user:
            account = get_user_model().objects.filter(email__iexact=user).first()
            if account is None:
                raise CommandError(f"There is no account with the email address {user}.")
        try:
            review = restore_archive(archive, user=account, log=self.stdout.write)
        except RestoreError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Restored “{review.title}” as a new review.")
        # Last, alone on its line: scripts read the slug from here.
        self.stdout.write(review.slug)
