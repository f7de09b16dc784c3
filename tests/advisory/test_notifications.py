"""Emails about comments: who gets one, what it says (never an email address), the daily
digest, failed sends, withdrawn comments, and the sweep for lost queue messages."""

import time
from datetime import timedelta
from smtplib import SMTPException
from unittest import mock

import pytest
from celery.exceptions import Retry
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone

from advisory import notifications
from advisory.comments import post_comment, withdraw_comment
from advisory.models import Comment, Notification, Preference, SharedTheme
from advisory.tasks import send_daily_digests, send_notification
from coding.codebook import create_code
from reviewapp.models import Membership, Role

from ..factories import MembershipFactory
from ..test_celery_worker import worker_queue  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db

SITE = "https://reviews.example.net"
LOCMEM_SEND = "django.core.mail.backends.locmem.EmailBackend.send_messages"


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = SITE


@pytest.fixture
def theme(review, lead):
    code = create_code(review=review, user=lead, name="Poor relationships")
    return SharedTheme.objects.create(
        review=review, theme=code, shared=True, plain_title="Being listened to"
    )


@pytest.fixture
def post(django_capture_on_commit_callbacks):
    """post(...) = post_comment(...) with its after-commit work (queueing emails) run, as a
    view's request would; Celery runs eagerly in tests."""

    def post_and_commit(**kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return post_comment(**kwargs)

    return post_and_commit


def set_frequency(review, user, frequency, fold=False):
    Preference.objects.update_or_create(
        membership=Membership.objects.get(review=review, user=user),
        defaults={"frequency": frequency, "fold_content_notes": fold},
    )


def thread_url(review, comment):
    path = reverse("advisory_theme", args=[review.slug, comment.shared_theme_id])
    return f"{SITE}{path}#comment-{comment.pk}"


def sent_to(user):
    return [m for m in mail.outbox if m.to == [user.email]]


def html_of(message):
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return html


def test_reply_emails_the_parent_author_with_a_link_and_no_email_address(
    post, review, theme, advisory
):
    replier = MembershipFactory(
        review=review, role=Role.REVIEWER, user__name="", user__email="rob.smith@example.org"
    ).user
    parent = post(shared_theme=theme, author=advisory, body="Nobody asked me what I wanted.")
    mail.outbox.clear()

    reply = post(shared_theme=theme, author=replier, body="Thank you, we will add this.",
                 parent=parent)  # fmt: skip

    [message] = sent_to(advisory)
    assert message.subject == "[reviewapp] New reply to your comment on “Being listened to”"
    assert "Avoidable harm review" in message.body
    assert "Being listened to" in message.body
    # A member without a name is shown by role, never by the start of their address.
    assert "Researcher replied to your comment" in message.body
    assert "Thank you, we will add this." in message.body
    assert thread_url(review, reply) in message.body
    assert f'href="{thread_url(review, reply)}"' in html_of(message)
    preferences = SITE + reverse("advisory_preferences", args=[review.slug])
    assert preferences in message.body
    for text in (message.body, html_of(message)):
        assert "@" not in text
        assert "rob.smith" not in text
    assert Notification.objects.get(user=advisory, comment=reply).sent_at is not None


def test_new_comment_emails_every_lead_but_not_its_author(post, review, theme, lead, advisory):
    lead2 = MembershipFactory(review=review, role=Role.LEAD, user__name="Leo Lead").user

    post(shared_theme=theme, author=advisory, body="This theme misses carers.")
    assert sorted(m.to[0] for m in mail.outbox) == sorted([lead.email, lead2.email])
    [message] = sent_to(lead)
    assert message.subject == "[reviewapp] New comment on “Being listened to”"
    assert "Ada Advisor wrote a new comment" in message.body

    mail.outbox.clear()
    post(shared_theme=theme, author=lead, body="Agreed, we will look again.")
    assert [m.to for m in mail.outbox] == [[lead2.email]]


def test_frequency_none_writes_no_notification_and_sends_nothing(post, review, theme, lead,
                                                                 advisory):  # fmt: skip
    set_frequency(review, lead, Preference.Frequency.NONE)

    comment = post(shared_theme=theme, author=advisory, body="A comment.")

    assert not Notification.objects.filter(comment=comment).exists()
    assert mail.outbox == []


def test_daily_digest_sends_one_email_with_both_comments_once(post, review, theme, lead,
                                                               advisory):  # fmt: skip
    set_frequency(review, lead, Preference.Frequency.DAILY)
    first = post(shared_theme=theme, author=advisory, body="First thought.")
    second = post(shared_theme=theme, author=advisory, body="Second thought " + "x" * 300)
    assert mail.outbox == []
    assert Notification.objects.filter(user=lead, sent_at=None).count() == 2

    send_daily_digests.delay()

    [message] = mail.outbox
    assert message.to == [lead.email]
    assert message.subject == "[reviewapp] Your daily summary: 2 new comments"
    assert "First thought." in message.body
    assert "Second thought " + "x" * 150 in message.body
    assert "x" * 250 not in message.body  # the first 200 characters only
    assert thread_url(review, first) in message.body
    assert thread_url(review, second) in message.body
    assert "Ada Advisor" in message.body
    assert "@" not in message.body
    assert not Notification.objects.filter(user=lead, sent_at=None).exists()

    send_daily_digests.delay()
    assert len(mail.outbox) == 1


def test_daily_digest_leaves_out_a_withdrawn_comment(post, review, theme, lead, advisory):
    set_frequency(review, lead, Preference.Frequency.DAILY)
    kept = post(shared_theme=theme, author=advisory, body="Kept.")
    gone = post(shared_theme=theme, author=advisory, body="Second thoughts.")
    withdraw_comment(comment=gone, user=advisory)

    send_daily_digests.delay()

    [message] = mail.outbox
    assert thread_url(review, kept) in message.body
    assert thread_url(review, gone) not in message.body
    skipped = Notification.objects.get(comment=gone)
    assert skipped.last_error == "withdrawn before sending"
    assert skipped.sent_at is not None


def test_failed_send_keeps_the_comment_and_the_unsent_notification(post, theme, lead, advisory):
    with mock.patch(LOCMEM_SEND, side_effect=SMTPException("Mail server unavailable")):
        comment = post(shared_theme=theme, author=advisory, body="Please keep this.")

    assert Comment.objects.get(pk=comment.pk).body == "Please keep this."
    notification = Notification.objects.get(comment=comment, user=lead)
    assert notification.sent_at is None
    assert notification.attempts == 1
    assert notification.last_error == "SMTPException: Mail server unavailable"


def test_the_worker_retries_a_failed_send_with_backoff(theme, lead, advisory):
    # No on-commit run: the row exists, its task has not.
    comment = post_comment(shared_theme=theme, author=advisory, body="Please keep this.")
    notification = Notification.objects.get(comment=comment, user=lead)

    # As a worker runs it (not in-process), on its third try.
    send_notification.push_request(is_eager=False, retries=2)
    try:
        with (
            mock.patch(LOCMEM_SEND, side_effect=SMTPException("Mail server unavailable")),
            mock.patch.object(send_notification, "retry", side_effect=Retry()) as retry,
            pytest.raises(Retry),
        ):
            send_notification.run(notification_id=notification.pk)
    finally:
        send_notification.pop_request()

    [call] = retry.call_args_list
    assert isinstance(call.kwargs["exc"], SMTPException)
    assert 0 <= call.kwargs["countdown"] <= 30 * 2**2
    notification.refresh_from_db()
    assert (notification.sent_at, notification.attempts) == (None, 1)
    assert Comment.objects.filter(pk=comment.pk).exists()


def test_a_redelivered_task_sends_nothing_twice(post, theme, lead, advisory):
    comment = post(shared_theme=theme, author=advisory, body="Once only.")
    notification = Notification.objects.get(comment=comment, user=lead)

    send_notification.delay(notification_id=notification.pk)

    assert len(sent_to(lead)) == 1
    notification.refresh_from_db()
    assert notification.attempts == 1


def test_comment_withdrawn_before_sending_is_not_emailed(theme, lead, advisory):
    comment = post_comment(shared_theme=theme, author=advisory, body="I take that back.")
    withdraw_comment(comment=comment, user=advisory)
    notification = Notification.objects.get(comment=comment, user=lead)

    send_notification.delay(notification_id=notification.pk)

    assert mail.outbox == []
    notification.refresh_from_db()
    assert notification.last_error == "withdrawn before sending"
    assert notification.sent_at is not None
    assert Comment.objects.filter(pk=comment.pk).exists()


def test_folded_content_notes_keep_the_text_out_of_the_email(post, review, theme, lead,
                                                             advisory):  # fmt: skip
    theme.content_note = "mentions of self-harm"
    theme.save(update_fields=["content_note"])
    set_frequency(review, advisory, Preference.Frequency.IMMEDIATE, fold=True)
    parent = post(shared_theme=theme, author=advisory, body="My comment.")

    post(shared_theme=theme, author=lead, body="A reply with details.", parent=parent)

    [message] = sent_to(advisory)
    assert "Content note: mentions of self-harm" in message.body
    assert "A reply with details." not in message.body
    assert "A reply with details." not in html_of(message)


def test_html_email_escapes_the_comment_and_plain_text_keeps_it(post, theme, lead, advisory):
    post(shared_theme=theme, author=advisory, body='<script>alert(1)</script> & "quotes"')

    [message] = sent_to(lead)
    assert '<script>alert(1)</script> & "quotes"' in message.body
    assert "<script>" not in html_of(message)
    assert "&lt;script&gt;" in html_of(message)


def test_long_comment_is_cut_to_500_characters(post, theme, lead, advisory):
    post(shared_theme=theme, author=advisory, body="a" * 600)

    [message] = sent_to(lead)
    assert "a" * 499 in message.body
    assert "a" * 501 not in message.body
    assert "The comment continues on the site." in message.body


def test_command_sends_immediate_notifications_whose_queue_message_was_lost(
    review, theme, lead, advisory
):
    # No on-commit run: as if Redis lost the message.
    lost = post_comment(shared_theme=theme, author=advisory, body="Lost in the queue.")
    Notification.objects.filter(comment=lost).update(
        created_at=timezone.now() - timedelta(minutes=20)
    )
    recent = post_comment(shared_theme=theme, author=advisory, body="Still in the queue.")

    call_command("send_pending_notifications")

    [message] = mail.outbox
    assert "Lost in the queue." in message.body
    assert Notification.objects.get(comment=lost).sent_at is not None
    assert Notification.objects.get(comment=recent).sent_at is None

    call_command("send_pending_notifications")
    assert len(mail.outbox) == 1


def test_command_leaves_daily_ones_for_the_digest_unless_asked(review, theme, lead, advisory):
    set_frequency(review, lead, Preference.Frequency.DAILY)
    post_comment(shared_theme=theme, author=advisory, body="For the digest.")
    Notification.objects.update(created_at=timezone.now() - timedelta(hours=1))

    call_command("send_pending_notifications")
    assert mail.outbox == []

    call_command("send_pending_notifications", "--daily-digests")
    [message] = mail.outbox
    assert "Your daily summary: 1 new comment" in message.subject


def test_command_reports_failures(review, theme, lead, advisory):
    post_comment(shared_theme=theme, author=advisory, body="Lost in the queue.")
    Notification.objects.update(created_at=timezone.now() - timedelta(hours=1))

    with (
        mock.patch(LOCMEM_SEND, side_effect=SMTPException("Mail server unavailable")),
        pytest.raises(CommandError, match="1 email failed"),
    ):
        call_command("send_pending_notifications")

    notification = Notification.objects.get()
    assert (notification.sent_at, notification.attempts) == (None, 1)


def test_queue_immediate_skips_daily_and_none(review, theme, lead, advisory):
    comment = post_comment(shared_theme=theme, author=advisory, body="A comment.")
    set_frequency(review, lead, Preference.Frequency.DAILY)

    notifications.queue_immediate([n.pk for n in comment.notifications.all()])

    assert mail.outbox == []
    assert Notification.objects.get(comment=comment).sent_at is None


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sends_through_redis_once(worker_queue, theme, lead, advisory):  # noqa: F811
    queue, worker = worker_queue
    comment = post_comment(shared_theme=theme, author=advisory, body="Through the queue.")
    notification = Notification.objects.get(comment=comment, user=lead)

    # Twice, as a redelivery would: the second finds the row stamped.
    for _ in range(2):
        send_notification.apply_async(kwargs={"notification_id": notification.pk}, queue=queue)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        notification.refresh_from_db()
        if notification.sent_at is not None:
            break
        assert worker.poll() is None, f"worker died: {worker.stdout.read()}"
        time.sleep(0.2)
    assert notification.sent_at is not None, "the worker did not send it within 60 s"
    time.sleep(1)
    worker.terminate()
    log = worker.communicate(timeout=20)[0]
    assert f"Notification {notification.pk}: sent." in log
    assert f"Notification {notification.pk}: already sent" in log
    notification.refresh_from_db()
    assert notification.attempts == 1
