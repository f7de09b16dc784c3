"""Emailing people about comments.

post_comment writes a Notification row for everyone a comment concerns, in the comment's own
transaction; after the commit `queue_immediate` hands the rows wanted straight away to the
worker (advisory.tasks.send_notification), and the daily digest (advisory.tasks.
send_daily_digests, from Celery beat) takes the rest. `send_pending` catches what a lost
queue message left behind.

A row's `sent_at` is the only record that its email went: every sender locks the row, sends,
and stamps it in one transaction, so a redelivered or duplicated task finds the row stamped
(or locked) and sends nothing. A row that will never be sent (its comment was withdrawn, its
owner left the review or turned email off) is stamped too, with the reason in `last_error`.
Nothing here deletes a comment or a notification.

What an email may hold: the review's title, the theme's plain title, the writer's public name
(never any part of an email address), the comment's text unless the reader folds content with
a content note, and a link straight to the thread.
"""

import logging
from datetime import timedelta
from smtplib import SMTPException

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator

from reviewapp.models import Membership

from .access import public_names, sees_unshared
from .models import Notification, Preference

logger = logging.getLogger(__name__)

Frequency = Preference.Frequency

# Failures worth trying again later: the mail server or the network, not our data.
TRANSIENT_ERRORS = (SMTPException, OSError, ConnectionError)

EMAIL_TEXT_CHARS = 500
DIGEST_TEXT_CHARS = 200
# A digest longer than this lists the newest ones and points at the site for the rest.
DIGEST_MAX_ITEMS = 50

# An immediate row never tried after this long lost its queue message.
LOST_AFTER = timedelta(minutes=15)
# Celery's own retries (30 s doubling to an hour, 8 of them) are over by then.
RETRY_WINDOW = timedelta(hours=3)
# After this many attempts a row waits for a person to look at `last_error`.
GIVE_UP_AFTER_ATTEMPTS = 20

SENT = "sent"
WAITING_FOR_DIGEST = "waiting for the daily digest"
NOTHING_TO_DO = "already sent, being sent, or gone"
WITHDRAWN = "withdrawn before sending"
NOT_A_MEMBER = "no longer a member of the review"
EMAIL_OFF = "email turned off"
NOT_SHARED = "theme no longer shared with them"


def _has_preference(**filters):
    """The notification's owner has a Preference in the comment's review matching `filters`."""
    return Exists(
        Preference.objects.filter(
            membership__user_id=OuterRef("user_id"),
            membership__review_id=OuterRef("comment__review_id"),
            **filters,
        )
    )


def _wanted_straight_away():
    # No Preference row means the default, which is straight away.
    return ~_has_preference(frequency__in=[Frequency.DAILY, Frequency.NONE])


def _wanted_daily():
    return _has_preference(frequency=Frequency.DAILY)


def _locked(queryset):
    # skip_locked: a row another sender holds is that sender's to finish. of=self: the
    # nullable join (the excerpt) cannot be locked on PostgreSQL, and need not be.
    return queryset.select_for_update(skip_locked=True, of=("self",)).select_related(
        "user",
        "comment__review",
        "comment__shared_theme__theme",
        "comment__shared_excerpt",
    )


def queue_immediate(notification_ids):
    """Hand the notifications whose owners want email straight away to the worker. Called
    after the comment's commit; daily ones wait for the digest."""
    from .tasks import send_notification

    due = (
        Notification.objects.filter(pk__in=notification_ids, sent_at=None)
        .filter(_wanted_straight_away())
        .values_list("pk", flat=True)
    )
    for notification_id in due:
        try:
            send_notification.delay(notification_id=notification_id)
        except Exception:
            # The comment is saved and the row waits, unsent, for send_pending: a broker
            # outage must not turn a saved comment into an error page.
            logger.exception("Could not queue notification %s.", notification_id)


# ----------------------------------------------------------------------------- content


def _absolute(path):
    return settings.SITE_URL.rstrip("/") + path


def _thread_url(comment):
    path = reverse("advisory_theme", args=[comment.review.slug, comment.shared_theme_id])
    return _absolute(f"{path}#comment-{comment.pk}")


def _preferences_url(review):
    return _absolute(reverse("advisory_preferences", args=[review.slug]))


def _one_line(text):
    # A header cannot hold a line break (Django refuses to send it).
    return " ".join(text.split())


def preference_of(membership):
    """The member's Preference, or the defaults (unsaved) if they never chose."""
    try:
        return membership.advisory_preference
    except Preference.DoesNotExist:
        return Preference(membership=membership)


def _reason_not_to_send(notification, membership):
    comment = notification.comment
    if comment.withdrawn:
        return WITHDRAWN
    if membership is None:
        return NOT_A_MEMBER
    if preference_of(membership).frequency == Frequency.NONE:
        return EMAIL_OFF
    if not (comment.shared_theme.shared or sees_unshared(membership)):
        return NOT_SHARED
    hidden_quote = comment.shared_excerpt is not None and not comment.shared_excerpt.visible
    if hidden_quote and not sees_unshared(membership):
        return NOT_SHARED
    return None


def _item(notification, membership, author_name, limit):
    """What one email says about one notification (the templates' `item`)."""
    comment = notification.comment
    excerpt = comment.shared_excerpt
    content_note = (excerpt.content_note if excerpt else "") or comment.shared_theme.content_note
    # Someone who folds content behind its note chose when to read it; an email in their
    # inbox would choose for them, so the words stay out of it.
    folded = bool(content_note) and preference_of(membership).fold_content_notes
    return {
        "kind": notification.kind,
        "is_reply": comment.parent_id is not None,
        "author_name": author_name,
        "theme_title": comment.shared_theme.title,
        "content_note": content_note,
        "folded": folded,
        "text": "" if folded else Truncator(comment.body).chars(limit),
        "shortened": not folded and len(comment.body) > limit,
        "thread_url": _thread_url(comment),
    }


def _greeting_name(user):
    # Not display_name: it falls back to the start of the email address.
    return user.name.strip()


def _email(*, subject, template, context, to):
    prefix = settings.ACCOUNT_EMAIL_SUBJECT_PREFIX
    message = EmailMultiAlternatives(
        subject=_one_line(prefix + subject),
        # The plain-text template turns autoescaping off; the HTML one keeps it on.
        body=render_to_string(f"advisory/email/{template}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
    )
    message.attach_alternative(
        render_to_string(f"advisory/email/{template}.html", context), "text/html"
    )
    return message


def _subject(notification):
    title = notification.comment.shared_theme.title
    if notification.kind == Notification.Kind.REPLY:
        return f"New reply to your comment on “{title}”"
    return f"New comment on “{title}”"


def _record_failure(notification_ids, exc):
    Notification.objects.filter(pk__in=notification_ids).update(
        attempts=F("attempts") + 1, last_error=f"{type(exc).__name__}: {exc}"[:500]
    )


def _mark_skipped(notification_ids, reason):
    Notification.objects.filter(pk__in=notification_ids).update(
        sent_at=timezone.now(), last_error=reason
    )


def _mark_sent(notification_ids):
    Notification.objects.filter(pk__in=notification_ids).update(
        sent_at=timezone.now(), attempts=F("attempts") + 1, last_error=""
    )


# ----------------------------------------------------------------------------- sending


def send_notification_now(notification_id):
    """Email one notification unless it went already, should never go (stamped with the
    reason), or now waits for its owner's daily digest. Returns what happened.

    A failed send is recorded (`attempts`, `last_error`) and its error raised for the caller
    to retry; the row stays unsent."""
    failure = None
    with transaction.atomic():
        notification = _locked(Notification.objects.filter(pk=notification_id, sent_at=None))
        notification = notification.first()
        if notification is None:
            return NOTHING_TO_DO
        comment = notification.comment
        membership = (
            Membership.objects.select_related("advisory_preference")
            .filter(user_id=notification.user_id, review_id=comment.review_id)
            .first()
        )
        reason = _reason_not_to_send(notification, membership)
        if reason:
            _mark_skipped([notification.pk], reason)
            return reason
        if preference_of(membership).frequency == Frequency.DAILY:
            return WAITING_FOR_DIGEST
        review = comment.review
        author_name = public_names(review, [comment.author_id])[comment.author_id]
        context = {
            "recipient_name": _greeting_name(notification.user),
            "review_title": review.title,
            "item": _item(notification, membership, author_name, EMAIL_TEXT_CHARS),
            "preferences_url": _preferences_url(review),
        }
        message = _email(
            subject=_subject(notification),
            template="notification",
            context=context,
            to=notification.user.email,
        )
        try:
            message.send()
        except Exception as exc:
            _record_failure([notification.pk], exc)
            failure = exc
        else:
            _mark_sent([notification.pk])
    if failure is not None:
        raise failure
    return SENT


def daily_digest_recipients():
    """Ids of the users with something unsent for a review whose digest they chose."""
    return list(
        Notification.objects.filter(sent_at=None)
        .filter(_wanted_daily())
        .order_by("user_id")
        .values_list("user_id", flat=True)
        .distinct()
    )


def send_digest_now(user_id):
    """Email `user_id` one summary of everything unsent for the reviews where they chose a
    daily digest, and stamp it all sent. Returns how many comments it covered (0: no email).

    A failed send is recorded on every row it held and its error raised; the rows stay
    unsent for the retry."""
    failure = None
    with transaction.atomic():
        rows = list(
            _locked(Notification.objects.filter(user_id=user_id, sent_at=None))
            .filter(_wanted_daily())
            .order_by("created_at", "id")
        )
        if not rows:
            return 0
        user = rows[0].user
        memberships = {
            m.review_id: m
            for m in Membership.objects.select_related("advisory_preference").filter(
                user_id=user_id, review_id__in={n.comment.review_id for n in rows}
            )
        }
        wanted = []
        for notification in rows:
            membership = memberships.get(notification.comment.review_id)
            reason = _reason_not_to_send(notification, membership)
            if reason:
                _mark_skipped([notification.pk], reason)
            else:
                wanted.append(notification)
        if not wanted:
            return 0
        listed = wanted[-DIGEST_MAX_ITEMS:]
        by_review = {}
        for notification in listed:
            by_review.setdefault(notification.comment.review, []).append(notification)
        reviews = []
        for review, notifications in by_review.items():
            names = public_names(review, [n.comment.author_id for n in notifications])
            membership = memberships[review.pk]
            reviews.append(
                {
                    "title": review.title,
                    "items": [
                        _item(n, membership, names[n.comment.author_id], DIGEST_TEXT_CHARS)
                        for n in notifications
                    ],
                    "home_url": _absolute(reverse("advisory_home", args=[review.slug])),
                    "preferences_url": _preferences_url(review),
                }
            )
        count = len(wanted)
        context = {
            "recipient_name": _greeting_name(user),
            "count": count,
            "not_listed": count - len(listed),
            "reviews": reviews,
        }
        message = _email(
            subject=f"Your daily summary: {count} new comment{'s' if count != 1 else ''}",
            template="digest",
            context=context,
            to=user.email,
        )
        ids = [n.pk for n in wanted]
        try:
            message.send()
        except Exception as exc:
            _record_failure(ids, exc)
            failure = exc
        else:
            _mark_sent(ids)
    if failure is not None:
        raise failure
    return count


def due_immediate(now=None, lost_after=LOST_AFTER):
    """Ids of the notifications wanted straight away that should have gone by now: never
    tried and older than `lost_after` (the queue lost the message), or failed and older than
    Celery's whole retry window (the retries ran out, or were lost)."""
    now = now or timezone.now()
    never_tried = Q(attempts=0, created_at__lt=now - lost_after)
    retries_over = Q(
        attempts__gt=0,
        attempts__lt=GIVE_UP_AFTER_ATTEMPTS,
        created_at__lt=now - max(lost_after, RETRY_WINDOW),
    )
    return list(
        Notification.objects.filter(sent_at=None)
        .filter(_wanted_straight_away())
        .filter(never_tried | retries_over)
        .order_by("created_at", "id")
        .values_list("pk", flat=True)
    )


def send_pending(lost_after=LOST_AFTER):
    """Send, in this process, every notification `due_immediate` finds. Returns
    {outcome: count}, failures counted under "failed" (their error is on the row)."""
    outcomes = {}
    for notification_id in due_immediate(lost_after=lost_after):
        try:
            outcome = send_notification_now(notification_id)
        except TRANSIENT_ERRORS as exc:
            logger.warning("Could not send notification %s: %s", notification_id, exc)
            outcome = "failed"
        except Exception:
            logger.exception("Could not send notification %s.", notification_id)
            outcome = "failed"
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes
