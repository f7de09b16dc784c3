"""Celery tasks for the Advisory Group's emails. Each one calls advisory.notifications, where
the idempotence lives (a row is locked, sent and stamped in one transaction)."""

import logging

from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval

from . import notifications

logger = logging.getLogger(__name__)

# Retry policy for a failed send: 30 s doubling up to an hour, with full jitter so a mail
# server coming back is not hit by every waiting email at once; 8 retries span about 2 hours.
RETRY_BACKOFF = 30
RETRY_BACKOFF_MAX = 3600
MAX_RETRIES = 8


def _retry(task, exc, what):
    if task.request.is_eager:
        # Without a broker the task runs inside the request that saved the comment, and an
        # in-process retry would run at once (countdowns are ignored), keeping the person
        # waiting. The row stays unsent; send_pending_notifications sends it later.
        logger.warning("Could not email %s (%s); it waits, unsent.", what, exc)
        return
    countdown = get_exponential_backoff_interval(
        factor=RETRY_BACKOFF,
        retries=task.request.retries,
        maximum=RETRY_BACKOFF_MAX,
        full_jitter=True,
    )
    raise task.retry(exc=exc, countdown=countdown)


@shared_task(bind=True, acks_late=True, max_retries=MAX_RETRIES, soft_time_limit=60, time_limit=90)
def send_notification(self, *, notification_id):
    """Email one notification; retried on mail-server and network errors."""
    try:
        outcome = notifications.send_notification_now(notification_id)
    except notifications.TRANSIENT_ERRORS as exc:
        _retry(self, exc, f"notification {notification_id}")
        return
    logger.info("Notification %s: %s.", notification_id, outcome)


@shared_task(
    bind=True, acks_late=True, max_retries=MAX_RETRIES, soft_time_limit=120, time_limit=150
)
def send_digest(self, *, user_id):
    """Email one person their daily summary; retried like send_notification."""
    try:
        count = notifications.send_digest_now(user_id)
    except notifications.TRANSIENT_ERRORS as exc:
        _retry(self, exc, f"the daily digest of user {user_id}")
        return
    logger.info("Daily digest of user %s: %s comments.", user_id, count)


@shared_task(acks_late=True, soft_time_limit=5 * 60, time_limit=6 * 60)
def send_daily_digests():
    """Queue one digest per person (Celery beat runs this each morning). Running it twice
    sends nothing twice: a digest stamps what it listed."""
    for user_id in notifications.daily_digest_recipients():
        send_digest.delay(user_id=user_id)


@shared_task(acks_late=True, soft_time_limit=5 * 60, time_limit=6 * 60)
def send_pending_notifications():
    """Queue again the immediate notifications a lost queue message left unsent."""
    for notification_id in notifications.due_immediate():
        send_notification.delay(notification_id=notification_id)
