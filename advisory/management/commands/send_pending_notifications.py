from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from advisory import notifications


class Command(BaseCommand):
    help = (
        "Send, from this process, the comment emails wanted straight away that are still "
        "unsent (their queue message was lost, or their retries ran out). Needs no broker. "
        "Safe to run often: nothing is sent twice."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--minutes",
            type=int,
            default=int(notifications.LOST_AFTER.total_seconds() // 60),
            help="Only emails waiting longer than this; younger ones are still in the queue "
            "(default: %(default)s).",
        )
        parser.add_argument(
            "--daily-digests",
            action="store_true",
            help="Also send the daily digests now. For a once-a-day cron job where Celery "
            "beat does not run.",
        )

    def handle(self, *args, minutes, daily_digests, **options):
        if minutes < 0:
            raise CommandError("--minutes cannot be negative.")
        outcomes = notifications.send_pending(lost_after=timedelta(minutes=minutes))
        sent = outcomes.pop(notifications.SENT, 0)
        failed = outcomes.pop("failed", 0)
        self.stdout.write(f"Sent {sent} comment email{'s' if sent != 1 else ''}.")
        for outcome, count in sorted(outcomes.items()):
            self.stdout.write(f"Not sent ({outcome}): {count}.")
        if daily_digests:
            digests = 0
            for user_id in notifications.daily_digest_recipients():
                try:
                    digests += bool(notifications.send_digest_now(user_id))
                except Exception as exc:
                    failed += 1
                    self.stderr.write(f"Daily digest of user {user_id} failed: {exc}")
            self.stdout.write(f"Sent {digests} daily digest{'s' if digests != 1 else ''}.")
        if failed:
            raise CommandError(
                f"{failed} email{'s' if failed != 1 else ''} failed; see last_error on "
                "the notifications. They are tried again later."
            )
