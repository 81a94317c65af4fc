"""Private rooms and invitations: invite by username, invite links (expiry,
revocation), the "Invite people" panel, and a private room that stays invisible
to everyone who is not in it."""

import asyncio
import re
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import AsyncClient, Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config.realtime import room_group
from messages_app.services import message_post
from rooms.models import Invitation, Membership
from rooms.selectors import invitation_get_active, invitation_list_active
from rooms.services import (
    InvitationGone,
    RoomError,
    RoomPermissionDenied,
    invitation_accept,
    invitation_create,
    invitation_revoke,
    room_invite,
)
from tests.factories import PASSWORD, MembershipFactory, RoomFactory, UserFactory
from tests.sockets import live, make_member, open_socket, receive_until

OWNER, MODERATOR, MEMBER = Membership.Role.OWNER, Membership.Role.MODERATOR, Membership.Role.MEMBER
HTMX = {"HX-Request": "true"}


@pytest.fixture
def secret(db):
    return RoomFactory(name="Hidden Garden", topic="Roses only", is_private=True)


@pytest.fixture
def owner(secret):
    return MembershipFactory(room=secret, role=OWNER).user


@pytest.fixture
def moderator(secret):
    return MembershipFactory(room=secret, role=MODERATOR).user


@pytest.fixture
def bob(db):
    return UserFactory(username="bob")


@pytest.fixture
def link(secret, owner):
    return invitation_create(room=secret, created_by=owner)


def is_member(room, user):
    return Membership.objects.filter(room=room, user=user, banned_at__isnull=True).exists()


def caller(kind, room):
    """Someone who is not an owner or moderator of `room`."""
    if kind == "member":
        return MembershipFactory(room=room, role=MEMBER).user
    if kind == "moderator elsewhere":
        return MembershipFactory(room=RoomFactory(), role=MODERATOR).user
    if kind == "banned moderator":
        return MembershipFactory(room=room, role=MODERATOR, banned_at=timezone.now()).user
    return UserFactory()  # an outsider


NOT_MODERATORS = ["member", "moderator elsewhere", "outsider", "banned moderator"]


# --- room_invite ----------------------------------------------------------------


@pytest.mark.parametrize("role", [OWNER, MODERATOR])
def test_room_invite_by_owner_or_moderator_makes_a_member_at_once(
    secret, bob, role, django_capture_on_commit_callbacks
):
    inviter = MembershipFactory(room=secret, role=role).user

    with django_capture_on_commit_callbacks() as callbacks:
        membership = room_invite(room=secret, invited_by=inviter, username="bob")

    assert membership.user == bob and membership.role == MEMBER and is_member(secret, bob)
    # Once committed: the invitee's sidebars and the room's member lists (socket tests below),
    # and member_invited for the apps above (the email: tests/test_digest.py).
    assert len(callbacks) == 3


def test_room_invite_ignores_letter_case_a_leading_at_and_spaces(secret, owner, bob):
    assert room_invite(room=secret, invited_by=owner, username="  @BoB ").user == bob


def test_room_invite_prefers_the_exact_username_when_case_differs(secret, owner):
    UserFactory(username="Ann")
    ann = UserFactory(username="ann")
    assert room_invite(room=secret, invited_by=owner, username="ann").user == ann


@pytest.mark.parametrize(
    "username, error", [("nobody", "There is no user named “nobody”."), ("  ", "Enter the username")]
)
def test_room_invite_refuses_unknown_or_blank_usernames(secret, owner, username, error):
    with pytest.raises(RoomError, match=error):
        room_invite(room=secret, invited_by=owner, username=username)
    assert Membership.objects.filter(room=secret).count() == 1


def test_room_invite_refuses_someone_already_in_the_room(secret, owner, moderator):
    with pytest.raises(RoomError, match="already a member"):
        room_invite(room=secret, invited_by=owner, username=moderator.username)
    with pytest.raises(RoomError, match="already a member"):
        room_invite(room=secret, invited_by=owner, username=owner.username)
    assert Membership.objects.get(room=secret, user=moderator).role == MODERATOR


def test_room_invite_never_lifts_a_ban(secret, owner, bob, django_capture_on_commit_callbacks):
    MembershipFactory(room=secret, user=bob, banned_at=timezone.now())
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(RoomError, match="banned"):
        room_invite(room=secret, invited_by=owner, username="bob")
    assert Membership.objects.get(room=secret, user=bob).is_banned and not callbacks


@pytest.mark.parametrize("kind", NOT_MODERATORS)
def test_room_invite_refuses_everyone_but_owners_and_moderators(secret, bob, kind):
    with pytest.raises(RoomPermissionDenied, match="owners and moderators"):
        room_invite(room=secret, invited_by=caller(kind, secret), username="bob")
    assert not Membership.objects.filter(room=secret, user=bob).exists()


def test_room_invite_works_for_public_rooms_too(bob):
    room = RoomFactory()
    owner = MembershipFactory(room=room, role=OWNER).user
    room_invite(room=room, invited_by=owner, username="bob")
    assert is_member(room, bob)


# --- invite links: services and selectors ---------------------------------------------


def test_invitation_create_makes_a_long_random_unique_token(secret, owner):
    links = [invitation_create(room=secret, created_by=owner) for _ in range(20)]
    tokens = {link.token for link in links}
    assert len(tokens) == 20
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{32}", token) for token in tokens)  # 192 random bits
    assert all(link.expires_at is None and link.created_by == owner for link in links)


@pytest.mark.parametrize("hours", [1, 24, 168])
def test_invitation_create_with_an_expiry(secret, moderator, hours):
    link = invitation_create(room=secret, created_by=moderator, expires_in=timedelta(hours=hours))
    assert abs(link.expires_at - (timezone.now() + timedelta(hours=hours))) < timedelta(seconds=5)


def test_invitation_create_refuses_an_expiry_in_the_past(secret, owner):
    with pytest.raises(RoomError, match="expire"):
        invitation_create(room=secret, created_by=owner, expires_in=timedelta(0))
    assert not Invitation.objects.exists()


@pytest.mark.parametrize("kind", NOT_MODERATORS)
def test_invite_links_are_made_and_revoked_only_by_owners_and_moderators(secret, link, kind):
    someone = caller(kind, secret)
    with pytest.raises(RoomPermissionDenied):
        invitation_create(room=secret, created_by=someone)
    with pytest.raises(RoomPermissionDenied):
        invitation_revoke(invitation=link, revoked_by=someone)
    assert list(Invitation.objects.all()) == [link] and invitation_get_active(token=link.token) == link


def test_a_moderator_revokes_a_link_and_revoking_twice_changes_nothing(secret, link, moderator):
    invitation_revoke(invitation=link, revoked_by=moderator)
    first = Invitation.objects.get().revoked_at
    invitation_revoke(invitation=link, revoked_by=moderator)

    assert first is not None and Invitation.objects.get().revoked_at == first
    assert invitation_get_active(token=link.token) is None
    assert invitation_list_active(room=secret) == []


def test_expired_links_are_dead(secret, owner):
    link = invitation_create(room=secret, created_by=owner, expires_in=timedelta(hours=1))
    assert invitation_get_active(token=link.token) == link
    Invitation.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert invitation_get_active(token=link.token) is None
    assert invitation_list_active(room=secret) == []
    assert invitation_get_active(token="no-such-token") is None


def test_invitation_accept_makes_a_member_and_counts_the_use(
    secret, link, bob, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        membership = invitation_accept(invitation=link, user=bob)
    again = invitation_accept(invitation=link, user=bob)  # a double click

    assert membership.role == MEMBER and again.pk == membership.pk and is_member(secret, bob)
    assert Invitation.objects.get().use_count == 1 and len(callbacks) == 2


def test_invitation_accept_keeps_a_ban(secret, link, bob):
    MembershipFactory(room=secret, user=bob, banned_at=timezone.now())
    with pytest.raises(RoomError, match="banned"):
        invitation_accept(invitation=link, user=bob)
    assert Membership.objects.get(room=secret, user=bob).is_banned
    assert Invitation.objects.get().use_count == 0


def test_invitation_accept_refuses_a_link_revoked_or_expired_meanwhile(secret, owner, bob):
    revoked = invitation_create(room=secret, created_by=owner)
    expired = invitation_create(room=secret, created_by=owner, expires_in=timedelta(hours=1))
    invitation_revoke(invitation=revoked, revoked_by=owner)
    Invitation.objects.filter(pk=expired.pk).update(expires_at=timezone.now())

    for link in (revoked, expired):
        with pytest.raises(InvitationGone):
            invitation_accept(invitation=link, user=bob)
    assert not Membership.objects.filter(room=secret, user=bob).exists()


# --- the "Invite people" panel ----------------------------------------------------------


def test_owner_sees_the_panel_with_active_links_their_expiry_and_revoke_buttons(client, secret, owner):
    forever = invitation_create(room=secret, created_by=owner)
    daily = invitation_create(room=secret, created_by=owner, expires_in=timedelta(days=1))
    revoked = invitation_create(room=secret, created_by=owner)
    invitation_revoke(invitation=revoked, revoked_by=owner)
    client.force_login(owner)

    page = client.get(f"/rooms/{secret.slug}/").content.decode()

    assert 'id="invite-panel"' in page and "Invite people" in page
    assert f'value="http://testserver/invite/{forever.token}/"' in page and "Never expires" in page
    assert f'value="http://testserver/invite/{daily.token}/"' in page and "Expires in" in page
    assert f"/rooms/{secret.slug}/invitations/{forever.pk}/revoke/" in page
    assert revoked.token not in page


@pytest.mark.parametrize("role", [MEMBER, "reader of a public room"])
def test_people_who_are_not_owner_or_moderator_get_no_panel(client, db, role):
    room = RoomFactory()
    link = invitation_create(room=room, created_by=MembershipFactory(room=room, role=OWNER).user)
    user = MembershipFactory(room=room).user if role == MEMBER else UserFactory()
    client.force_login(user)

    page = client.get(f"/rooms/{room.slug}/").content.decode()

    assert "invite-panel" not in page and link.token not in page


def test_invite_by_username_without_js_redirects_with_a_notice(client, secret, moderator, bob):
    client.force_login(moderator)

    response = client.post(f"/rooms/{secret.slug}/invite/", {"username": "bob"})

    assert response.status_code == 303 and response["Location"] == f"/rooms/{secret.slug}/"
    assert is_member(secret, bob)
    assert "bob is now a member of Hidden Garden." in client.get(response["Location"]).content.decode()


def test_invite_by_username_with_htmx_returns_the_panel(client, secret, owner, bob):
    client.force_login(owner)

    response = client.post(f"/rooms/{secret.slug}/invite/", {"username": "bob"}, headers=HTMX)

    fragment = response.content.decode()
    assert response.status_code == 200 and fragment.lstrip().startswith('<details id="invite-panel"')
    assert "bob is now a member of Hidden Garden." in fragment and "<html" not in fragment
    assert is_member(secret, bob)


@pytest.mark.parametrize(
    "username, error",
    [
        ("ghost", "There is no user named “ghost”."),
        ("", "Enter a username."),
        ("bob", "bob is banned from this room; an invitation does not lift a ban."),
        ("member", "member is already a member of this room."),
    ],
)
def test_a_refused_invitation_shows_why_and_changes_nothing(client, secret, owner, bob, username, error):
    MembershipFactory(room=secret, user=bob, banned_at=timezone.now())
    MembershipFactory(room=secret, user=UserFactory(username="member"))
    before = list(Membership.objects.order_by("pk").values_list("user_id", "role", "banned_at"))
    client.force_login(owner)

    plain = client.post(f"/rooms/{secret.slug}/invite/", {"username": username})
    htmx = client.post(f"/rooms/{secret.slug}/invite/", {"username": username}, headers=HTMX)

    assert plain.status_code == 400 and error in plain.content.decode()
    assert 'id="invite-panel" class="invite-panel" open' in plain.content.decode()
    assert htmx.status_code == 200 and error in htmx.content.decode()  # htmx swaps only 2xx answers
    assert list(Membership.objects.order_by("pk").values_list("user_id", "role", "banned_at")) == before


@pytest.mark.parametrize("choice, lifetime", [("never", None), ("1h", 1), ("1d", 24), ("7d", 168)])
def test_create_a_link_from_the_panel(client, secret, owner, choice, lifetime):
    client.force_login(owner)

    response = client.post(f"/rooms/{secret.slug}/invitations/", {"expires": choice}, headers=HTMX)

    link = Invitation.objects.get()
    assert (
        response.status_code == 200 and f"http://testserver/invite/{link.token}/" in response.content.decode()
    )
    if lifetime is None:
        assert link.expires_at is None
    else:
        expected = timezone.now() + timedelta(hours=lifetime)
        assert abs(link.expires_at - expected) < timedelta(seconds=5)


def test_create_a_link_without_js_redirects_and_shows_the_link(client, secret, owner):
    client.force_login(owner)
    response = client.post(f"/rooms/{secret.slug}/invitations/", {"expires": "1d"})
    link = Invitation.objects.get()
    assert response.status_code == 303 and response["Location"] == f"/rooms/{secret.slug}/"
    assert (
        f"Invite link created: http://testserver/invite/{link.token}/"
        in client.get(response["Location"]).content.decode()
    )


@pytest.mark.parametrize("data", [{"expires": "forever"}, {}])
def test_a_bad_expiry_choice_is_refused_and_creates_nothing(client, secret, owner, data):
    client.force_login(owner)
    plain = client.post(f"/rooms/{secret.slug}/invitations/", data)
    htmx = client.post(f"/rooms/{secret.slug}/invitations/", data, headers=HTMX)
    assert plain.status_code == 400 and "Choose how long the link lasts." in plain.content.decode()
    assert htmx.status_code == 200 and "Choose how long the link lasts." in htmx.content.decode()
    assert not Invitation.objects.exists()


def test_revoke_from_the_panel_kills_the_link(client, secret, moderator, link, bob):
    client.force_login(moderator)

    response = client.post(f"/rooms/{secret.slug}/invitations/{link.pk}/revoke/", headers=HTMX)

    assert response.status_code == 200 and link.token not in response.content.decode()
    assert "Invite link revoked" in response.content.decode()
    assert Invitation.objects.get().revoked_at is not None
    client.force_login(bob)
    assert client.get(f"/invite/{link.token}/").status_code == 404
    assert client.post(f"/invite/{link.token}/").status_code == 404 and not is_member(secret, bob)


def test_revoke_without_js_redirects(client, secret, owner, link):
    client.force_login(owner)
    response = client.post(f"/rooms/{secret.slug}/invitations/{link.pk}/revoke/")
    assert response.status_code == 303 and response["Location"] == f"/rooms/{secret.slug}/"
    assert Invitation.objects.get().revoked_at is not None


def test_a_link_of_another_room_cannot_be_revoked_through_this_one(client, owner, secret):
    mine = RoomFactory()
    MembershipFactory(room=mine, user=owner, role=OWNER)
    other = RoomFactory()
    theirs = invitation_create(room=other, created_by=MembershipFactory(room=other, role=OWNER).user)
    client.force_login(owner)

    assert client.post(f"/rooms/{mine.slug}/invitations/{theirs.pk}/revoke/").status_code == 404
    assert Invitation.objects.get().revoked_at is None


def test_management_endpoints_need_post(client, secret, owner, link):
    client.force_login(owner)
    for url in (
        f"/rooms/{secret.slug}/invite/",
        f"/rooms/{secret.slug}/invitations/",
        f"/rooms/{secret.slug}/invitations/{link.pk}/revoke/",
    ):
        assert client.get(url).status_code == 405


# --- who may manage invitations ---------------------------------------------------------


def management_posts(room, link):
    return [
        (f"/rooms/{room.slug}/invite/", {"username": "bob"}),
        (f"/rooms/{room.slug}/invitations/", {"expires": "never"}),
        (f"/rooms/{room.slug}/invitations/{link.pk}/revoke/", {}),
    ]


@pytest.mark.parametrize(
    "is_private, kind, status",
    [
        # A private room stays a 404 for everyone who is not in it.
        (True, "outsider", 404),
        (True, "moderator elsewhere", 404),
        # Those who know the room exists learn only that they may not do this.
        (True, "member", 403),
        (True, "banned moderator", 403),
        (False, "outsider", 403),
        (False, "moderator elsewhere", 403),
        (False, "member", 403),
    ],
)
def test_only_owners_and_moderators_manage_invitations(client, bob, is_private, kind, status):
    room = RoomFactory(is_private=is_private)
    link = invitation_create(room=room, created_by=MembershipFactory(room=room, role=OWNER).user)
    client.force_login(caller(kind, room))

    for url, data in management_posts(room, link):
        assert client.post(url, data).status_code == status, url
        assert client.post(url, data, headers=HTMX).status_code == status, url

    assert not Membership.objects.filter(room=room, user=bob).exists()
    assert list(Invitation.objects.all()) == [link] and Invitation.objects.get().revoked_at is None


def test_anonymous_callers_are_sent_to_log_in_and_nothing_changes(client, secret, link, bob):
    for url, data in management_posts(secret, link):
        response = client.post(url, data)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert not Membership.objects.filter(room=secret, user=bob).exists()
    assert Invitation.objects.get().revoked_at is None


# --- the invite page ----------------------------------------------------------------


def test_invite_page_shows_the_room_and_a_join_button_then_joins(client, secret, link, bob):
    client.force_login(bob)

    page = client.get(f"/invite/{link.token}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Hidden Garden" in html and "Roses only" in html
    assert f'action="/invite/{link.token}/"' in html and "csrfmiddlewaretoken" in html
    assert not is_member(secret, bob)

    joined = client.post(f"/invite/{link.token}/")

    assert joined.status_code == 303 and joined["Location"] == f"/rooms/{secret.slug}/"
    assert is_member(secret, bob) and Invitation.objects.get().use_count == 1
    assert client.get(joined["Location"]).status_code == 200


def test_a_member_following_a_link_is_just_sent_to_the_room(client, secret, link, moderator):
    client.force_login(moderator)
    for response in (client.get(f"/invite/{link.token}/"), client.post(f"/invite/{link.token}/")):
        assert response.status_code == 303 and response["Location"] == f"/rooms/{secret.slug}/"
    assert Membership.objects.get(room=secret, user=moderator).role == MODERATOR
    assert Invitation.objects.get().use_count == 0


def test_a_banned_user_is_refused_by_a_link(client, secret, link, bob):
    MembershipFactory(room=secret, user=bob, banned_at=timezone.now())
    client.force_login(bob)

    page, post = client.get(f"/invite/{link.token}/"), client.post(f"/invite/{link.token}/")

    assert page.status_code == 403 and "You are banned from this room." in page.content.decode()
    assert f'action="/invite/{link.token}/"' not in page.content.decode()  # no Join button
    assert post.status_code == 403 and Membership.objects.get(room=secret, user=bob).is_banned


def test_anonymous_visitor_logs_in_and_comes_back_to_the_invitation(client, link, bob):
    response = client.get(f"/invite/{link.token}/")
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next=/invite/{link.token}/"

    logged_in = client.post(response["Location"], {"login": "bob", "password": PASSWORD})

    assert logged_in.status_code == 302 and logged_in["Location"] == f"/invite/{link.token}/"
    assert "Hidden Garden" in client.get(logged_in["Location"]).content.decode()


def test_invite_page_query_count(client, secret, link, bob, django_assert_max_num_queries):
    client.force_login(bob)
    # session, user, the link with its room and author, the visitor's membership
    with django_assert_max_num_queries(4):
        assert client.get(f"/invite/{link.token}/").status_code == 200
    # session, user, link; then the locked re-check, membership, savepoint, insert, release and
    # use count, inside a transaction (which the test's own transaction turns into 2 more savepoints)
    with django_assert_max_num_queries(11):
        assert client.post(f"/invite/{link.token}/").status_code == 303


def _room_page_queries(client, room):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"/rooms/{room.slug}/").status_code == 200
    return len(queries)


def test_the_panel_query_count_does_not_grow_with_links(client, secret, owner):
    client.force_login(owner)
    invitation_create(room=secret, created_by=owner)
    with_one = _room_page_queries(client, secret)
    for _ in range(15):
        invitation_create(room=secret, created_by=MembershipFactory(room=secret, role=MODERATOR).user)
    assert _room_page_queries(client, secret) == with_one


# --- a private room is invisible to non-members ----------------------------------------------


def not_found_answers(client, slug, pk):
    """Status, type and body of every room URL for one slug."""
    requests = [
        ("get", f"/rooms/{slug}/", {}),
        ("post", f"/rooms/{slug}/join/", {}),
        ("post", f"/rooms/{slug}/leave/", {}),
        ("get", f"/rooms/{slug}/messages/?before=1000", {}),
        ("get", f"/rooms/{slug}/messages/?after=0", {}),
        ("post", f"/rooms/{slug}/messages/", {"body": "hello?"}),
        ("get", f"/rooms/{slug}/search/?q=roses", {}),
        ("post", f"/rooms/{slug}/invite/", {"username": "bob"}),
        ("post", f"/rooms/{slug}/invitations/", {"expires": "never"}),
        ("post", f"/rooms/{slug}/invitations/{pk}/revoke/", {}),
    ]
    answers = []
    for method, url, data in requests:
        response = getattr(client, method)(url, data)
        answers.append(
            (url.replace(slug, "<slug>"), response.status_code, response["Content-Type"], response.content)
        )
    return answers


@pytest.mark.parametrize("kind", ["outsider", "moderator elsewhere"])
def test_a_private_room_answers_exactly_like_a_missing_one(client, settings, secret, link, bob, kind):
    settings.DEBUG = False  # the production 404 page
    client.force_login(caller(kind, secret))

    private = not_found_answers(client, secret.slug, link.pk)
    missing = not_found_answers(client, "no-such-room", link.pk)

    assert private == missing
    assert all(status == 404 for _, status, _, _ in private)
    assert not Membership.objects.filter(room=secret).exclude(role=OWNER).exists()
    assert Invitation.objects.get().revoked_at is None


def test_dead_and_unknown_links_answer_exactly_like_a_missing_room(client, settings, secret, owner, bob):
    settings.DEBUG = False
    revoked = invitation_create(room=secret, created_by=owner)
    invitation_revoke(invitation=revoked, revoked_by=owner)
    expired = invitation_create(room=secret, created_by=owner, expires_in=timedelta(hours=1))
    Invitation.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    client.force_login(bob)

    missing_room = client.get("/rooms/no-such-room/")
    for token in (revoked.token, expired.token, "x" * 32, "not a token"):
        for response in (client.get(f"/invite/{token}/"), client.post(f"/invite/{token}/")):
            assert response.status_code == 404
            assert response.content == missing_room.content
            assert response["Content-Type"] == missing_room["Content-Type"]
    assert not Membership.objects.filter(room=secret, user=bob).exists()


def test_anonymous_visitors_cannot_tell_a_live_link_from_a_dead_one(client, link):
    live_link, dead_link = client.get(f"/invite/{link.token}/"), client.get("/invite/no-such-token/")
    assert live_link.status_code == dead_link.status_code == 302
    assert live_link.content == dead_link.content == b""


def test_the_directory_shows_a_private_room_only_once_invited(client, secret, owner, bob):
    client.force_login(bob)
    assert "Hidden Garden" not in client.get("/").content.decode()

    room_invite(room=secret, invited_by=owner, username="bob")

    assert f'data-room="{secret.slug}"' in client.get("/").content.decode()


# --- CSRF -------------------------------------------------------------------------------


def test_every_invitation_form_is_csrf_protected(secret, owner, bob):
    link = invitation_create(room=secret, created_by=owner)
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(owner)
    forms = [
        (f"/rooms/{secret.slug}/invite/", {"username": "bob"}),
        (f"/rooms/{secret.slug}/invitations/", {"expires": "never"}),
        (f"/rooms/{secret.slug}/invitations/{link.pk}/revoke/", {}),
    ]

    for url, data in forms:
        assert csrf_client.post(url, data).status_code == 403, url
        assert csrf_client.post(url, data, headers=HTMX).status_code == 403, url
    assert not is_member(secret, bob) and Invitation.objects.count() == 1
    assert Invitation.objects.get().revoked_at is None

    csrf_client.get(f"/rooms/{secret.slug}/")  # sets the CSRF cookie, as a browser would
    token = csrf_client.cookies["csrftoken"].value
    for url, data in forms:
        assert csrf_client.post(url, {**data, "csrfmiddlewaretoken": token}).status_code == 303, url
    assert is_member(secret, bob) and Invitation.objects.filter(revoked_at__isnull=True).count() == 1


def test_the_join_button_is_csrf_protected(link, secret):
    visitor = UserFactory()
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(visitor)

    assert csrf_client.post(f"/invite/{link.token}/").status_code == 403
    assert not is_member(secret, visitor)

    page = csrf_client.get(f"/invite/{link.token}/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    assert csrf_client.post(f"/invite/{link.token}/", {"csrfmiddlewaretoken": token}).status_code == 303
    assert is_member(secret, visitor)


# --- admin ------------------------------------------------------------------------------


def test_admin_lists_and_shows_invitations(client, secret, link):
    admin = get_user_model().objects.create_superuser("root", "root@example.com", PASSWORD)
    client.force_login(admin)

    listing = client.get("/admin/rooms/invitation/")
    found = client.get("/admin/rooms/invitation/", {"q": "hidden"})
    detail = client.get(f"/admin/rooms/invitation/{link.pk}/change/")

    assert listing.status_code == 200 and "Hidden Garden" in listing.content.decode()
    assert found.status_code == 200 and "1 invitation" in found.content.decode()
    assert detail.status_code == 200 and link.token in detail.content.decode()


# --- live: the invitee's open pages ------------------------------------------------------


@live
async def test_an_invitation_shows_live_in_the_invitees_sidebar_and_the_rooms_member_list(channel_layer):
    lobby = await sync_to_async(RoomFactory)(name="Lobby")
    secret = await sync_to_async(RoomFactory)(name="Hidden Garden", is_private=True)
    invitee = await make_member(lobby)
    owner = await make_member(secret, role=OWNER)
    socket = await open_socket(lobby.slug, invitee)  # accepted once subscribed to its groups
    # The room's pages, as the channel layer sees them (a bare channel: no presence traffic).
    room_pages = await channel_layer.new_channel()
    await channel_layer.group_add(room_group(secret), room_pages)

    await sync_to_async(room_invite)(room=secret, invited_by=owner, username=invitee.username)

    members = (await asyncio.wait_for(channel_layer.receive(room_pages), timeout=3))["html"]
    assert 'id="member-roll"' in members and 'hx-swap-oob="true"' in members
    assert f'data-user="{invitee.pk}"' in members
    sidebar = (await receive_until(socket, 'id="my-room-links"'))[-1]
    assert 'hx-swap-oob="true"' in sidebar
    assert f'data-room="{secret.slug}"' in sidebar and "Hidden Garden" in sidebar
    assert f'data-room="{lobby.slug}"' in sidebar

    # The page now follows the new room as well: a message there lights its badge.
    await sync_to_async(message_post)(room=secret, author=owner, body="welcome")
    badge = (await receive_until(socket, f'id="room-link-{secret.slug}"'))[-1]
    assert 'data-unread="1"' in badge
    await socket.disconnect()


@live
async def test_joining_by_link_updates_the_users_other_open_pages():
    lobby = await sync_to_async(RoomFactory)(name="Lobby")
    secret = await sync_to_async(RoomFactory)(name="Hidden Garden", is_private=True)
    user = await make_member(lobby)
    owner = await make_member(secret, role=OWNER)
    link = await sync_to_async(invitation_create)(room=secret, created_by=owner)
    socket = await open_socket(lobby.slug, user)
    client = AsyncClient()
    await client.aforce_login(user)

    response = await client.post(f"/invite/{link.token}/")

    assert response.status_code == 303
    sidebar = (await receive_until(socket, 'id="my-room-links"'))[-1]
    assert f'data-room="{secret.slug}"' in sidebar
    await socket.disconnect()
