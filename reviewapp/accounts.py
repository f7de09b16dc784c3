"""Creating accounts outside the sign-up form (commands, the demo)."""

from allauth.account.models import EmailAddress

from .models import User


def ensure_user(email, *, name="", password=None):
    """Return (user, created). The address counts as verified: whoever runs the command
    vouches for it. With `password`, the password is (re)set to it."""
    user = User.objects.filter(email__iexact=email).first()
    created = user is None
    if created:
        user = User.objects.create_user(email=email, password=password, name=name)
        if password is None:
            user.set_unusable_password()
            user.save(update_fields=["password"])
    elif password is not None:
        user.set_password(password)
        user.save(update_fields=["password"])
    EmailAddress.objects.update_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )
    return user, created
