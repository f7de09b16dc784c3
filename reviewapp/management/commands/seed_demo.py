from django.core.management.base import BaseCommand

from reviewapp.demo import seed_demo


class Command(BaseCommand):
    help = "Create (or refresh) the demo review 'demo' and its demo users. Idempotent."

    def handle(self, *args, **options):
        review, users = seed_demo()
        self.stdout.write(f"Demo review {review.slug!r}: {review.title}")
        self.stdout.write("Demo accounts (demo only, never use these passwords elsewhere):")
        for email, role, password in users:
            self.stdout.write(f"  {role:<9} {email:<26} password: {password}")
