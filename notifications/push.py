"""Web Push: telling a browser with no tab of the site open of a notification.

The browser subscribes once per device (PushSubscription); the background worker,
never the request or the socket consumer, encrypts each notification for it
(RFC 8291) and posts it to the browser's push service, signed with this server's
VAPID key (RFC 8292, settings VAPID_*). The endpoint is a URL the browser chose,
that is anyone's input: the server only posts to https URLs whose host resolves to
public addresses, checked when subscribing and again before each send (DNS can
change), then once more at connection time (the address actually connected to), and
never follows a redirect.
"""

import base64
import binascii
import json
import logging
from dataclasses import dataclass
from enum import Enum
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from pywebpush import WebPushException, webpush

from config.outbound import CheckedSession, resolve
from notifications.models import Notification, Preferences, PushSubscription
from rooms.presence.stores import presence_get

logger = logging.getLogger(__name__)

ENDPOINT_MAX_LENGTH = 2000
# The browser's subscription JSON is a few hundred bytes.
SUBSCRIPTION_MAX_BYTES = 4096
P256DH_BYTES = 65  # an uncompressed P-256 point
AUTH_BYTES = 16
PREVIEW_MAX_CHARS = 120
# A push service keeps an undelivered notification this long (the device is off).
PUSH_TTL_SECONDS = 24 * 3600
PUSH_TIMEOUT_SECONDS = 10


class Refused(ValueError):
    """A subscription or endpoint the server will not use; the message says why."""


# --- VAPID keys ---------------------------------------------------------------------------------


def b64url_encode(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def b64url_decode(text):
    if not isinstance(text, str) or not text or len(text) > 200:
        raise Refused("not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as error:
        raise Refused("not base64url") from error


def vapid_keys_generate():
    """A new VAPID key pair in the forms pywebpush and browsers take: the private key
    as its 32-byte number, the public key as an uncompressed point (applicationServerKey),
    both base64url."""
    private_key = ec.generate_private_key(ec.SECP256R1())
    public = private_key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return {
        "public_key": b64url_encode(public),
        "private_key": b64url_encode(private_key.private_numbers().private_value.to_bytes(32, "big")),
    }


def vapid_keys_valid(keys):
    """Is `keys` ({"public_key", "private_key"}) a matching P-256 pair?"""
    try:
        number = int.from_bytes(b64url_decode(keys["private_key"]), "big")
        public = ec.derive_private_key(number, ec.SECP256R1()).public_key()
    except (Refused, KeyError, TypeError, ValueError):
        return False
    point = public.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return b64url_encode(point) == keys.get("public_key")


def push_enabled():
    return bool(settings.VAPID_PUBLIC_KEY and settings.VAPID_PRIVATE_KEY)


# --- Endpoints and subscriptions ----------------------------------------------------------------


def endpoint_check(endpoint):
    """Refuse (Refused) an endpoint the server must not post to: https only, and a host
    that resolves only to public addresses. PUSH_ALLOW_INSECURE (tests) also lets
    http to loopback through."""
    if not isinstance(endpoint, str) or not endpoint or len(endpoint) > ENDPOINT_MAX_LENGTH:
        raise Refused("The endpoint must be a URL of at most 2,000 characters.")
    try:
        url = urlsplit(endpoint)
        port = url.port or (443 if url.scheme == "https" else 80)
    except ValueError as error:
        raise Refused("The endpoint is not a valid URL.") from error
    insecure = settings.PUSH_ALLOW_INSECURE
    if url.scheme != "https" and not (insecure and url.scheme == "http"):
        raise Refused("The endpoint must be an https URL.")
    if not url.hostname or url.username or url.password:
        raise Refused("The endpoint must name a host, and no credentials.")
    addresses = _addresses_of(url.hostname, port)
    if not all(address_allowed(address) for address in addresses):
        raise Refused("The endpoint's host must be on the public internet.")
    if url.scheme == "http" and not all(address.is_loopback for address in addresses):
        raise Refused("The endpoint must be an https URL.")


def address_allowed(address):
    return address.is_global or (settings.PUSH_ALLOW_INSECURE and address.is_loopback)


def _addresses_of(host, port):
    try:
        addresses = resolve(host, port)
    except (OSError, UnicodeError) as error:
        raise Refused("The endpoint's host does not resolve.") from error
    if not addresses:
        raise Refused("The endpoint's host does not resolve.")
    return addresses


@dataclass(frozen=True)
class Subscription:
    endpoint: str
    p256dh: str
    auth: str


def subscription_parse(body, *, keys_required=True):
    """The browser's PushSubscription JSON (`{"endpoint", "keys": {"p256dh", "auth"}}`),
    checked: Refused when it is not JSON of that shape, its keys are not base64url of a
    P-256 point and a 16-byte secret, or its endpoint is not one the server posts to.
    Without keys_required (unsubscribing), only the endpoint is read."""
    if len(body) > SUBSCRIPTION_MAX_BYTES:
        raise Refused("The subscription is too large.")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise Refused("The body must be the subscription as JSON.") from error
    if not isinstance(data, dict):
        raise Refused("The body must be the subscription as JSON.")
    endpoint = data.get("endpoint")
    if not isinstance(endpoint, str):
        raise Refused("The subscription has no endpoint.")
    if not keys_required:
        return Subscription(endpoint=endpoint, p256dh="", auth="")
    keys = data.get("keys")
    if not isinstance(keys, dict):
        raise Refused("The subscription has no keys.")
    p256dh, auth = keys.get("p256dh"), keys.get("auth")
    if not _decodes_to(p256dh, P256DH_BYTES) or b64url_decode(p256dh)[0] != 4:
        raise Refused("keys.p256dh must be a P-256 public key (base64url).")
    if not _decodes_to(auth, AUTH_BYTES):
        raise Refused("keys.auth must be a 16-byte secret (base64url).")
    endpoint_check(endpoint)
    return Subscription(endpoint=endpoint, p256dh=p256dh, auth=auth)


def _decodes_to(text, length):
    try:
        return len(b64url_decode(text)) == length
    except Refused:
        return False


def subscription_save(*, user, subscription, device=""):
    """Store the device's subscription; the same endpoint subscribed again (new keys,
    or another person logged in on that browser) replaces the old one."""
    saved, created = PushSubscription.objects.update_or_create(
        endpoint=subscription.endpoint,
        defaults={
            "user": user,
            "p256dh": subscription.p256dh,
            "auth": subscription.auth,
            "device": device[:200],
        },
    )
    logger.info(
        "push subscription %s user=%s id=%s", "added" if created else "renewed", user.username, saved.pk
    )
    return saved


def subscription_delete(*, user, endpoint):
    """Drop the caller's own subscription of that endpoint; anybody else's stays."""
    deleted, _ = PushSubscription.objects.filter(user=user, endpoint=endpoint).delete()
    logger.info("push subscription removed user=%s count=%d", user.username, deleted)
    return deleted


def device_name(user_agent):
    """ "Firefox on Linux" from a User-Agent header, for the person's list of devices."""
    browsers = [("Edg/", "Edge"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari")]
    systems = [("Android", "Android"), ("iPhone", "iOS"), ("iPad", "iOS"), ("Windows", "Windows")]
    systems += [("Mac OS", "macOS"), ("Linux", "Linux")]
    browser = next((name for marker, name in browsers if marker in user_agent), "A browser")
    system = next((name for marker, name in systems if marker in user_agent), "")
    return f"{browser} on {system}" if system else browser


# --- Who is pushed what ---------------------------------------------------------------------------


def push_targets(notifications):
    """[(notification, subscription)] to push: every device of each notified person,
    except people in "do not disturb" and people who have the room open right now
    (they are reading it)."""
    if not push_enabled() or not notifications:
        return []
    user_ids = {notification.user_id for notification in notifications}
    quiet = set(
        Preferences.objects.filter(user_id__in=user_ids, do_not_disturb_until__gt=timezone.now()).values_list(
            "user_id", flat=True
        )
    )
    present = {
        room_id: presence_get(room_id=room_id).user_ids for room_id in {n.room_id for n in notifications}
    }
    devices = {}
    for subscription in PushSubscription.objects.filter(user_id__in=user_ids - quiet).order_by("pk"):
        devices.setdefault(subscription.user_id, []).append(subscription)
    return [
        (notification, subscription)
        for notification in notifications
        if notification.user_id not in present[notification.room_id]
        for subscription in devices.get(notification.user_id, [])
    ]


def push_payload(message):
    """What the device shows: who wrote where, a plain-text preview, and where a click
    leads (the message in its room)."""
    sender = message.author.shown_name if message.author_id else "Someone"
    room = message.room
    text = " ".join((message.body or message.parts_text.replace("\n", ", ")).split())
    if len(text) > PREVIEW_MAX_CHARS:
        text = text[: PREVIEW_MAX_CHARS - 1].rstrip() + "…"
    return {
        "title": sender if room.is_direct else f"{sender} in {room.name}",
        "body": text,
        "url": f"{room.get_absolute_url()}?around={message.pk}#message-{message.pk}",
        "tag": f"message-{message.pk}",
    }


# --- Sending --------------------------------------------------------------------------------------


class Outcome(Enum):
    SENT = "sent"
    GONE = "gone"  # the push service forgot the subscription: removed
    RETRY = "retry"  # the push service is busy or down: try again later
    DROPPED = "dropped"  # refused for good (bad endpoint, bad request): not retried


def _peer_refused():
    return Refused("The endpoint's host resolved to an address the server does not post to.")


class PushSession(CheckedSession):
    """The HTTP client of pushes: straight to the push service (no proxy from the
    environment, so the checked peer is the service), the address checked on connecting
    (config/outbound.py: the host may resolve differently now than at endpoint_check, DNS
    rebinding), and no redirect followed (a push service answers; it never sends us elsewhere)."""

    def __init__(self):
        super().__init__(allowed=address_allowed, refusal=_peer_refused)

    def request(self, *args, **kwargs):
        kwargs["allow_redirects"] = False
        return super().request(*args, **kwargs)


def push_deliver(*, notification_id, subscription_id):
    """Post one notification to one device; what became of it."""
    notification = (
        Notification.objects.select_related("message__room", "message__author")
        .filter(pk=notification_id)
        .first()
    )
    subscription = PushSubscription.objects.filter(pk=subscription_id).first()
    if not _still_wanted(notification, subscription):
        return Outcome.DROPPED
    try:
        endpoint_check(subscription.endpoint)
    except Refused as refusal:
        logger.warning("push refused subscription=%s: %s", subscription.pk, refusal)
        return Outcome.DROPPED
    outcome = _post(subscription, push_payload(notification.message))
    if outcome is Outcome.SENT:
        now = timezone.now()
        Notification.objects.filter(Q(pk=notification.pk) & Q(pushed_at=None)).update(pushed_at=now)
        PushSubscription.objects.filter(pk=subscription.pk).update(last_used_at=now)
    elif outcome is Outcome.GONE:
        subscription.delete()
    logger.info("push %s notification=%s subscription=%s", outcome.value, notification.pk, subscription.pk)
    return outcome


def _still_wanted(notification, subscription):
    """Is the push still due when its turn comes (a retry may come an hour later)? Not
    when the message was deleted, the device now belongs to someone else (another person
    logged in on that browser and subscribed it), or its owner turned on "do not disturb"."""
    if notification is None or subscription is None or not push_enabled():
        return False
    if notification.message.deleted_at or subscription.user_id != notification.user_id:
        return False
    return not Preferences.objects.filter(
        user_id=notification.user_id, do_not_disturb_until__gt=timezone.now()
    ).exists()


def _post(subscription, payload):
    info = {
        "endpoint": subscription.endpoint,
        "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
    }
    try:
        with PushSession() as session:
            webpush(
                info,
                json.dumps(payload),
                vapid_private_key=settings.VAPID_PRIVATE_KEY,
                vapid_claims={"sub": settings.VAPID_SUBJECT},  # a fresh dict: webpush adds aud and exp
                ttl=PUSH_TTL_SECONDS,
                timeout=PUSH_TIMEOUT_SECONDS,
                requests_session=session,
            )
    except Refused as refusal:
        logger.warning("push refused subscription=%s: %s", subscription.pk, refusal)
        return Outcome.DROPPED
    except requests.RequestException as error:
        logger.warning("push service unreachable subscription=%s: %s", subscription.pk, type(error).__name__)
        return Outcome.RETRY
    except WebPushException as error:
        return _outcome_of(subscription, getattr(error.response, "status_code", None))
    return Outcome.SENT


def _outcome_of(subscription, status):
    if status in (404, 410):
        return Outcome.GONE
    if status is not None and (status == 429 or status >= 500):
        logger.warning("push service busy subscription=%s status=%s", subscription.pk, status)
        return Outcome.RETRY
    logger.warning("push refused by the push service subscription=%s status=%s", subscription.pk, status)
    return Outcome.DROPPED
