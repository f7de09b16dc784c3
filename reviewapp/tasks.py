import logging

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from .invitations import make_token
from .models import Invitation

logger = logging.getLogger(__name__)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, retry_backoff_max=600, max_retries=8)
def send_invitation_email(*, invitation_id, base_url=None):
    """Email the invitation link. Idempotent: a redelivered task does not send twice."""
    invitation = (
        Invitation.objects.select_related("review", "invited_by")
        .filter(pk=invitation_id, sent_at=None, accepted_at=None, revoked_at=None)
        .first()
    )
    if invitation is None:
        logger.info("Invitation %s is gone, used or already sent; nothing to do.", invitation_id)
        return
    base = (base_url or settings.SITE_URL).rstrip("/")
    link = base + reverse("invitation_accept", kwargs={"token": make_token(invitation)})
    context = {"invitation": invitation, "link": link}
    send_mail(
        subject=f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}You are invited to {invitation.review}",
        message=render_to_string("reviewapp/email/invitation.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[invitation.email],
    )
    Invitation.objects.filter(pk=invitation.pk).update(sent_at=timezone.now())
