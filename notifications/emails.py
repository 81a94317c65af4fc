"""What every mail of notifications shares: absolute links, the signed one-click
unsubscribe (RFC 8058) and the text + HTML message built from templates; and the
invitation email (issue 15 point 6).

Mails go out from the worker, which has no request: links are made from SITE_URL.
"""

import logging
import zoneinfo

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from notifications.models import Preferences

logger = logging.getLogger(__name__)

UNSUBSCRIBE_SALT = "notifications.unsubscribe"


def absolute_url(path):
    return settings.SITE_URL + path


def unsubscribe_token(user_id):
    """A token that names the person and only this server could have made; it never
    expires: an old mail's unsubscribe link must still work (RFC 8058)."""
    return signing.dumps(user_id, salt=UNSUBSCRIBE_SALT, compress=False)


def unsubscribe_user_id(token):
    """The user id a token names, or None if it was not made here (forged, cut short)."""
    try:
        user_id = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    return user_id if isinstance(user_id, int) else None


def unsubscribe_url(user_id):
    return absolute_url(reverse("email_unsubscribe", kwargs={"token": unsubscribe_token(user_id)}))


def email_unsubscribe(*, user_id):
    """Email off for this person (digests and invitations); badges and pushes stay."""
    Preferences.objects.update_or_create(user_id=user_id, defaults={"email_enabled": False})
    logger.info("email disabled user=%s", user_id)


def person_time_zone(user):
    """The zone of the person's profile, for the times a mail shows; UTC if unset or unknown."""
    try:
        return zoneinfo.ZoneInfo(user.time_zone) if user.time_zone else timezone.get_default_timezone()
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return timezone.get_default_timezone()


def addresses_of(users):
    """{user id: address} for the people who may be mailed: their primary or a verified
    allauth address, else the account's email (users made outside allauth); one query."""
    rows = {}
    for address in EmailAddress.objects.filter(user__in=users).order_by("-primary", "-verified", "pk"):
        rows.setdefault(address.user_id, address)  # the primary first, else a verified one
    found = {}
    for user in users:
        address = rows.get(user.pk)
        if address is None:
            if user.email:
                found[user.pk] = user.email
        elif address.primary or address.verified:
            found[user.pk] = address.email
    return found


def one_line(text):
    """Text fit for a header: a newline in a subject is refused (BadHeaderError)."""
    return " ".join(str(text).split())


def notification_email(*, to, user_id, subject, template, context):
    """A mail with a plain text and an HTML part, both from `template` (…/<name>.txt and
    .html), and the one-click unsubscribe of RFC 8058 in its headers and its body."""
    link = unsubscribe_url(user_id)
    context = {**context, "unsubscribe_url": link, "site_url": settings.SITE_URL}
    mail = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"notifications/email/{template}.txt", context),
        to=[to],
        headers={
            "List-Unsubscribe": f"<{link}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            # Autoresponders do not answer it (RFC 3834).
            "Auto-Submitted": "auto-generated",
        },
    )
    mail.attach_alternative(render_to_string(f"notifications/email/{template}.html", context), "text/html")
    return mail


def invitation_email_send(*, membership):
    """Tell the invitee by email who invited them where, with a link to the room (its page
    shows the invitation to accept or decline). An invitation is transactional: it is sent
    even in do-not-disturb (a mail does not ring), but not to someone who unsubscribed from
    email. Returns whether a mail was sent."""
    invitee = membership.user
    preferences = Preferences.objects.filter(user=invitee).first()
    if preferences is not None and not preferences.email_enabled:
        return False
    address = addresses_of([invitee]).get(invitee.pk)
    if address is None:
        return False
    room, inviter = membership.room, membership.invited_by
    context = {
        "person": invitee,
        "room": room,
        "inviter": inviter,
        "room_url": absolute_url(room.get_absolute_url()),
    }
    inviter_name = inviter.shown_name if inviter is not None else "Someone"
    subject = one_line(f"{inviter_name} invited you to {room.name} in Chat")
    mail = notification_email(
        to=address, user_id=invitee.pk, subject=subject, template="invitation", context=context
    )
    mail.send()
    logger.info("invitation email sent room=%s user=%s", room.slug, invitee.username)
    return True
