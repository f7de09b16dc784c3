"""Signed, expiring, review-scoped invitation tokens.

The token signs the invitation's id and review id, so a link cannot be altered to point at
another invitation or review; the row then decides whether it is still usable (single use,
revocable). Expiry is checked both by the signature's age and the row's `expires_at`.
"""

from django.conf import settings
from django.core import signing

SALT = "reviewapp.invitation"


def make_token(invitation):
    return signing.dumps({"i": invitation.pk, "r": invitation.review_id}, salt=SALT)


class InvalidInvitation(Exception):
    pass


def read_token(token):
    """Return the Invitation a token names, or raise InvalidInvitation with a reason."""
    from .models import Invitation

    max_age = settings.INVITATION_MAX_AGE_DAYS * 86400
    try:
        data = signing.loads(token, salt=SALT, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise InvalidInvitation(
            "This invitation has expired. Ask the review's lead for a new one."
        ) from exc
    except signing.BadSignature as exc:
        raise InvalidInvitation(
            "This invitation link is not valid. Check that it was copied whole."
        ) from exc
    invitation = (
        Invitation.objects.select_related("review", "invited_by")
        .filter(pk=data.get("i"), review_id=data.get("r"))
        .first()
    )
    if invitation is None or invitation.revoked_at is not None:
        raise InvalidInvitation("This invitation has been withdrawn.")
    if invitation.accepted_at is not None:
        raise InvalidInvitation("This invitation has already been used.")
    if invitation.is_expired:
        raise InvalidInvitation("This invitation has expired. Ask the review's lead for a new one.")
    return invitation


SESSION_KEY = "pending_invitation_token"


def pending_invitation(request):
    """The still-valid invitation this browser is following, if any."""
    token = request.session.get(SESSION_KEY)
    if not token:
        return None
    try:
        return read_token(token)
    except InvalidInvitation:
        request.session.pop(SESSION_KEY, None)
        return None
