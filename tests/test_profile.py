"""Profiles (issue 13, points 1 and 2): display name, status, time zone and avatar, their
rules (accounts/services.py, accounts/images.py), the page /accounts/profile/, the
avatar files, and names shown wherever people are shown."""

import io
import re
import struct
import zlib
from datetime import datetime

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from PIL import Image

from accounts import services
from accounts.images import AVATAR_MAX_BYTES, ImageRefused, avatar_renditions
from accounts.models import AVATAR_SIZES, avatar_file_name
from messages_app.services import message_post
from rooms.presence.roster import roster_context
from rooms.presence.stores import Presence
from tests.factories import MembershipFactory, MessageFactory, RoomFactory, UserFactory

pytestmark = pytest.mark.django_db

ORIENTATION, MAKE, GPS = 0x0112, 0x010F, 0x8825


def jpeg_with_exif(width=300, height=200):
    """A photo as a phone stores it: left half red, right half blue, with an EXIF
    orientation of 6 (turn 90° clockwise to show it), a camera make and a GPS block."""
    image = Image.new("RGB", (width, height), "red")
    image.paste((0, 0, 255), (width // 2, 0, width, height))
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    exif[MAKE] = "SpyCam"
    exif.get_ifd(GPS)[2] = (48.0, 51.0, 24.0)
    output = io.BytesIO()
    image.save(output, "JPEG", quality=95, exif=exif.tobytes())
    return output.getvalue()


def png_bytes(size=(40, 40), colour="green"):
    output = io.BytesIO()
    Image.new("RGB", size, colour).save(output, "PNG")
    return output.getvalue()


def png_bomb(side):
    """A valid PNG of side × side grey pixels, all zero: a few KB that decode to side² bytes."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)  # 8-bit greyscale
    compressor, rows = zlib.compressobj(9), []
    row = b"\x00" * (side + 1)  # filter byte + pixels
    rows = [compressor.compress(row) for _ in range(side)] + [compressor.flush()]
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", b"".join(rows)) + chunk(b"IEND", b"")
    )


def upload(data, name="me.png", content_type="image/png"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def stored(stem, size):
    with default_storage.open(avatar_file_name(stem, size)) as file:
        return file.read()


# --- The image rules -----------------------------------------------------------------


def test_a_photo_becomes_small_square_webp_files_upright_and_without_exif():
    photo = jpeg_with_exif()
    assert b"SpyCam" in photo
    renditions = avatar_renditions(photo)

    assert sorted(renditions) == sorted(AVATAR_SIZES)
    for side, data in renditions.items():
        assert len(data) < 8 * 1024  # a few KB out
        assert b"SpyCam" not in data and b"Exif" not in data
        image = Image.open(io.BytesIO(data))
        assert (image.format, image.size) == ("WEBP", (side, side))
        assert not image.getexif()
        # Turned as EXIF said: red (the left half) is now on top, blue at the bottom.
        top, bottom = (
            image.convert("RGB").getpixel((side // 2, 2)),
            image.convert("RGB").getpixel((side // 2, side - 3)),
        )
        assert top[0] > 200 and top[2] < 60, top
        assert bottom[2] > 200 and bottom[0] < 60, bottom


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"just some text, renamed me.png", id="text"),
        pytest.param(jpeg_with_exif()[:2000], id="truncated-jpeg"),
        pytest.param(png_bytes()[:-30], id="truncated-png"),
        pytest.param(b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', id="svg"),
        pytest.param(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", id="pdf"),
    ],
)
def test_what_is_not_a_readable_picture_is_refused(data):
    with pytest.raises(ImageRefused, match="not a picture we can read"):
        avatar_renditions(data)


def test_a_decompression_bomb_is_refused_before_it_is_decoded():
    bomb = png_bomb(6000)  # 36 megapixels, 36 MB of pixels, from a file of a few KB
    assert len(bomb) < 100_000
    with pytest.raises(ImageRefused, match="too large .6000 × 6000 pixels."):
        avatar_renditions(bomb)


def test_a_header_beyond_pillows_own_limit_is_refused_too():
    with pytest.raises(ImageRefused):
        avatar_renditions(png_bomb(20000)[:200])  # 400 megapixels announced


def test_an_animated_gif_gives_its_first_frame():
    frames = [Image.new("RGB", (50, 50), colour) for colour in ("red", "blue", "blue")]
    output = io.BytesIO()
    frames[0].save(output, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    image = Image.open(io.BytesIO(avatar_renditions(output.getvalue())[64]))
    assert getattr(image, "n_frames", 1) == 1
    assert image.convert("RGB").getpixel((32, 32))[0] > 200


def test_more_than_5_mb_is_refused_without_being_read():
    class Huge:
        size = AVATAR_MAX_BYTES + 1

        def read(self, *args):
            raise AssertionError("read a file that is too large")

        seek = read

    with pytest.raises(ImageRefused, match="larger than 5 MB"):
        avatar_renditions(Huge())


# --- The services -----------------------------------------------------------------


def test_avatar_set_stores_files_under_generated_names_and_drops_the_old_ones(
    django_capture_on_commit_callbacks,
):
    user = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        services.avatar_set(user=user, upload=upload(png_bytes(), name="../../etc/passwd.png"))
    first = user.avatar
    assert re.fullmatch(rf"avatars/{user.pk}-[0-9a-f]{{32}}", first)
    assert all(default_storage.exists(avatar_file_name(first, side)) for side in AVATAR_SIZES)

    with django_capture_on_commit_callbacks(execute=True):
        services.avatar_set(user=user, upload=upload(jpeg_with_exif(), name="photo.jpg"))
    user.refresh_from_db()
    assert user.avatar != first and default_storage.exists(avatar_file_name(user.avatar, 128))
    assert not any(default_storage.exists(avatar_file_name(first, side)) for side in AVATAR_SIZES)

    with django_capture_on_commit_callbacks(execute=True):
        services.avatar_clear(user=user)
    user.refresh_from_db()
    assert user.avatar == "" and user.avatar_url(64) == ""


def test_a_refused_picture_keeps_the_old_avatar():
    user = UserFactory()
    services.avatar_set(user=user, upload=upload(png_bytes()))
    before = user.avatar
    with pytest.raises(ValidationError) as refusal:
        services.avatar_set(user=user, upload=upload(b"GIF89a but not really", name="cat.gif"))
    assert "avatar" in refusal.value.message_dict
    user.refresh_from_db()
    assert user.avatar == before and default_storage.exists(avatar_file_name(before, 64))


@pytest.mark.parametrize(
    "field, value, error_field",
    [
        ("time_zone", "Mars/Olympus_Mons", "time_zone"),
        ("time_zone", "../../etc/localtime", "time_zone"),
        ("status_emoji", "ab", "status_emoji"),
        ("status_emoji", "😀😀", "status_emoji"),
        ("status_text", "x" * 81, "status"),
        ("display_name", "y" * 51, "display_name"),
    ],
)
def test_profile_update_refuses_what_breaks_a_rule(field, value, error_field):
    user = UserFactory()
    values = {"display_name": "", "status_emoji": "", "status_text": "", "time_zone": "", field: value}
    with pytest.raises(ValidationError) as refusal:
        services.profile_update(user=user, **values)
    assert error_field in refusal.value.message_dict
    user.refresh_from_db()
    assert getattr(user, field) == ""


@pytest.mark.parametrize("emoji", ["🎉", "🍽️", "👩‍💻", "👍🏽", "🇫🇷", "1️⃣", "☕", "🏳️‍🌈"])
def test_status_emoji_accepts_one_emoji_of_any_shape(emoji):
    assert services.is_single_emoji(emoji)


def test_profile_update_cleans_and_saves():
    user = UserFactory(username="ada")
    services.profile_update(
        user=user,
        display_name="  Ada \u202e Lovelace\n",
        status_emoji="🎉",
        status_text=" Shipping  the engine ",
        time_zone="Europe/London",
    )
    user.refresh_from_db()
    assert (user.display_name, user.status_emoji, user.status_text, user.time_zone) == (
        "Ada Lovelace",
        "🎉",
        "Shipping the engine",
        "Europe/London",
    )
    assert user.shown_name == "Ada Lovelace"
    services.profile_update(user=user, display_name=" ", status_emoji="", status_text="", time_zone="")
    assert user.shown_name == "ada"


# --- The page -------------------------------------------------------------------


def test_profile_page_needs_login(client):
    response = client.get("/accounts/profile/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_profile_page_saves_everything_and_shows_local_time(client):
    user = UserFactory(username="grace")
    client.force_login(user)
    response = client.post(
        "/accounts/profile/",
        {
            "display_name": "Grace Hopper",
            "status_emoji": "🚢",
            "status": "At sea",
            "time_zone": "Asia/Tokyo",
            "avatar": upload(jpeg_with_exif(), name="<script>.jpg"),
        },
    )
    assert response.status_code == 303 and response["Location"] == "/accounts/profile/"
    user.refresh_from_db()
    assert (user.display_name, user.status_emoji, user.status_text, user.time_zone) == (
        "Grace Hopper",
        "🚢",
        "At sea",
        "Asia/Tokyo",
    )
    page = client.get("/accounts/profile/").content.decode()
    assert "Grace Hopper" in page and "🚢 At sea" in page
    local = re.search(r'Local time <time datetime="([^"]+)">(\d\d:\d\d)</time> \(Asia/Tokyo\)', page)
    assert local, page
    shown = datetime.fromisoformat(local.group(1))
    assert shown.utcoffset().total_seconds() == 9 * 3600 and local.group(2) == f"{shown:%H:%M}"
    assert f'src="{user.avatar_url(128)}"' in page
    # The user menu, on this page as on every page, with its links.
    menu = re.search(r'<details class="user-menu">.*?</details>', page, re.S).group(0)
    for href in ("/accounts/profile/", "/accounts/email/", "/accounts/password/change/"):
        assert href in menu
    assert "Grace Hopper" in menu and f'src="{user.avatar_url(64)}"' in menu


def test_a_lying_file_is_a_form_error_and_nothing_changes(client):
    user = UserFactory()
    services.avatar_set(user=user, upload=upload(png_bytes()))
    before = user.avatar
    client.force_login(user)
    response = client.post(
        "/accounts/profile/",
        {"display_name": "New Name", "time_zone": "", "avatar": upload(b"not an image at all", name="x.png")},
    )
    assert response.status_code == 400
    assert "This file is not a picture we can read" in response.content.decode()
    user.refresh_from_db()
    assert user.avatar == before and user.display_name == ""  # one transaction: nothing saved


def test_over_5_mb_is_a_form_error(client):
    user = UserFactory()
    client.force_login(user)
    big = png_bytes() + b"\x00" * AVATAR_MAX_BYTES
    response = client.post("/accounts/profile/", {"avatar": upload(big)})
    assert response.status_code == 400 and "larger than 5 MB" in response.content.decode()
    user.refresh_from_db()
    assert user.avatar == ""


def test_an_unknown_time_zone_is_a_form_error(client):
    user = UserFactory()
    client.force_login(user)
    response = client.post("/accounts/profile/", {"time_zone": "Atlantis/Capital"})
    assert response.status_code == 400 and "Atlantis/Capital is not one of the available choices" in (
        response.content.decode()
    )


def test_avatar_files_are_served_with_long_cache_and_nothing_else_is(client):
    user = UserFactory()
    services.avatar_set(user=user, upload=upload(png_bytes()))
    response = client.get(user.avatar_url(64))
    assert response.status_code == 200 and response["Content-Type"] == "image/webp"
    assert "immutable" in response["Cache-Control"]
    assert b"".join(response.streaming_content) == stored(user.avatar, 64)
    for path in (
        f"/media/{user.avatar}-65.webp",
        "/media/avatars/..%2F..%2Fconfig%2Fsettings.py",
        f"/media/avatars/{user.pk}-{'0' * 32}-64.webp",
    ):
        assert client.get(path).status_code == 404, path


def test_profile_page_query_count_is_constant(client, django_assert_max_num_queries):
    user = UserFactory()
    services.avatar_set(user=user, upload=upload(png_bytes()))
    client.force_login(user)
    with django_assert_max_num_queries(3):
        assert client.get("/accounts/profile/").status_code == 200


# --- Names and avatars wherever people show ------------------------------------------


def test_the_message_fragment_shows_display_name_username_and_avatar(client):
    room = RoomFactory()
    author = MembershipFactory(room=room, user=UserFactory(username="lin")).user
    services.profile_update(
        user=author, display_name="Lin Wei", status_emoji="", status_text="", time_zone=""
    )
    services.avatar_set(user=author, upload=upload(png_bytes()))
    message = MessageFactory(room=room, author=author)
    html = render_to_string("messages_app/partials/message.html", {"message": message, "room": room})
    assert '<strong class="author">Lin Wei</strong> <span class="author-username">@lin</span>' in html
    assert f'<img class="avatar" src="{author.avatar_url(64)}" alt=""' in html

    client.force_login(author)
    page = client.get(f"/rooms/{room.slug}/").content.decode()
    assert '<strong class="author">Lin Wei</strong>' in page  # through the fragment cache too
    assert "Lin Wei" in client.get("/search/", {"q": "message"}).content.decode()


def test_a_renamed_author_is_not_served_from_the_fragment_cache(client):
    room = RoomFactory()
    author = MembershipFactory(room=room, user=UserFactory()).user
    MessageFactory(room=room, author=author)
    client.force_login(author)
    client.get(f"/rooms/{room.slug}/")
    services.profile_update(
        user=author, display_name="Fresh Name", status_emoji="", status_text="", time_zone=""
    )
    assert '<strong class="author">Fresh Name</strong>' in client.get(f"/rooms/{room.slug}/").content.decode()


def test_member_list_shows_display_names_and_usernames_only_where_names_clash(client):
    room = RoomFactory()
    people = {}
    for username, display_name in [("sam1", "Sam"), ("sam2", "sam"), ("rui", "Rui"), ("plain", "")]:
        people[username] = MembershipFactory(
            room=room, user=UserFactory(username=username, display_name=display_name)
        ).user
    client.force_login(people["plain"])
    page = client.get(f"/rooms/{room.slug}/").content.decode()
    roll = re.search(r'<div id="member-roll".*?</ul>', page, re.S).group(0)
    assert 'Sam <span class="username">(@sam1)</span>' in roll
    assert 'sam <span class="username">(@sam2)</span>' in roll
    assert "Rui" in roll and "(@rui)" not in roll
    assert "plain" in roll and "(@plain)" not in roll


def test_presence_roster_and_typing_show_display_names():
    users = [UserFactory(display_name=name) for name in ("Zoë", "Zoë", "Abe")]
    context = roster_context(
        presence=Presence(version=1, user_ids=frozenset(u.pk for u in users)), users=users
    )
    assert [user.shown_name for user in context["here"]] == ["Abe", "Zoë", "Zoë"]
    html = render_to_string("rooms/partials/presence.html", context)
    assert html.count('<span class="username">(@') == 2 and "Abe</span> <span" not in html
    typing = render_to_string("rooms/partials/typing.html", {"typist": users[2], "append": True})
    assert "Abe is typing…" in typing


def test_room_page_query_count_is_constant_with_members_who_have_avatars(
    client, django_assert_max_num_queries
):
    room, reader = RoomFactory(), UserFactory()
    MembershipFactory(room=room, user=reader)
    avatar = upload(png_bytes())

    def page_queries():
        with CaptureQueriesContext(connection) as queries:
            page = client.get(f"/rooms/{room.slug}/").content.decode()
        return len(queries), page

    def add_members(count):
        for _ in range(count):
            member = MembershipFactory(room=room, user=UserFactory(display_name="Person")).user
            services.avatar_set(user=member, upload=avatar)
            MessageFactory(room=room, author=member)

    client.force_login(reader)
    add_members(1)
    few, _ = page_queries()
    add_members(11)
    many, page = page_queries()
    assert page.count('<img class="avatar avatar-small"') >= 12 and page.count('<img class="avatar" ') == 12
    assert many == few
    assert page.count('<span class="username">(@') == 12  # the twelve "Person" are told apart
    with django_assert_max_num_queries(11):  # 10th: the member's notification level; 11th: reactions
        client.get(f"/rooms/{room.slug}/")


def test_the_demo_people_have_display_names_time_zones_and_statuses():
    call_command("seed_demo", stdout=io.StringIO())
    alice = get_user_model().objects.get(username="alice")
    assert alice.shown_name == "Alice Martin" and alice.time_zone == "Europe/Paris"
    assert services.clean_time_zone(alice.time_zone) and services.is_single_emoji(alice.status_emoji)
    people = get_user_model().objects.all()
    assert all(person.display_name and services.clean_time_zone(person.time_zone) for person in people)
    assert any(person.status_text for person in people)


def test_remove_my_avatar_is_offered_only_with_an_avatar_and_brings_back_initials(client):
    user = UserFactory(username="mo")
    client.force_login(user)
    assert 'name="avatar_clear"' not in client.get("/accounts/profile/").content.decode()
    services.avatar_set(user=user, upload=upload(png_bytes()))
    page = client.get("/accounts/profile/").content.decode()
    assert 'name="avatar_clear"' in page and 'class="avatar avatar-large"' in page
    response = client.post("/accounts/profile/", {"avatar_clear": "on"})
    assert response.status_code == 303
    user.refresh_from_db()
    assert user.avatar == ""
    assert '<span class="avatar avatar-large hue-' in client.get("/accounts/profile/").content.decode()


def test_staff_see_the_profile_fields_in_the_admin(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    person = UserFactory(display_name="Findable Name")
    client.force_login(staff)
    assert 'name="display_name"' in client.get(f"/admin/accounts/user/{person.pk}/change/").content.decode()
    assert "Findable Name" in client.get("/admin/accounts/user/", {"q": "Findable"}).content.decode()


def test_mentions_show_display_names_as_they_are_now(client, django_capture_on_commit_callbacks):
    room = RoomFactory()
    author = MembershipFactory(room=room, user=UserFactory(username="writer")).user
    named = MembershipFactory(room=room, user=UserFactory(username="ines", display_name="Inès Duval")).user
    with django_capture_on_commit_callbacks(execute=True):
        message = message_post(room=room, author=author, body="hello @ines and @writer")
    # Stored as written (@username); the fragment names the person.
    assert f'<span class="mention" data-user="{named.pk}">@ines</span>' in message.body_html
    live = render_to_string("messages_app/partials/message.html", {"message": message, "room": room})
    assert f'<span class="mention" data-user="{named.pk}">@Inès Duval</span>' in live
    client.force_login(author)
    page = client.get(f"/rooms/{room.slug}/").content.decode()
    assert f'<span class="mention" data-user="{named.pk}">@Inès Duval</span>' in page

    services.profile_update(
        user=named, display_name="Inès <b>D</b>", status_emoji="", status_text="", time_zone=""
    )
    page = client.get(f"/rooms/{room.slug}/").content.decode()  # not the cached fragment of the old name
    assert f'<span class="mention" data-user="{named.pk}">@Inès &lt;b&gt;D&lt;/b&gt;</span>' in page
    history = client.get(f"/rooms/{room.slug}/messages/", {"after": message.pk - 1}).content.decode()
    assert "@Inès &lt;b&gt;D&lt;/b&gt;" in history
    alone = client.get(f"/rooms/{room.slug}/messages/{message.pk}/").content.decode()  # an edit cancelled
    assert "@Inès &lt;b&gt;D&lt;/b&gt;" in alone


def test_mention_names_cost_one_query_per_page(client):
    room, reader = RoomFactory(), UserFactory(display_name="Reader")
    MembershipFactory(room=room, user=reader)

    def post_mentions(count):
        for _ in range(count):
            author = MembershipFactory(room=room, user=UserFactory(display_name="Author")).user
            message_post(room=room, author=author, body=f"hi @{reader.username}")

    def page_queries():
        with CaptureQueriesContext(connection) as queries:
            page = client.get(f"/rooms/{room.slug}/").content.decode()
        return len(queries), page.count("@Reader</span>")

    client.force_login(reader)
    post_mentions(1)
    few = page_queries()
    post_mentions(15)
    many = page_queries()
    assert (few[1], many[1]) == (1, 16)
    assert many[0] == few[0]


def test_a_hostile_display_name_and_status_show_as_text(client):
    payload = "<img src=x onerror=alert(1)>"
    room = RoomFactory()
    user = MembershipFactory(room=room, user=UserFactory()).user
    services.profile_update(
        user=user, display_name=payload, status_emoji="", status_text=payload, time_zone=""
    )
    MessageFactory(room=room, author=user)
    client.force_login(user)
    for path in (f"/rooms/{room.slug}/", "/accounts/profile/", "/search/?q=message"):
        page = client.get(path).content.decode()
        assert payload not in page and "&lt;img src=x onerror=alert(1)&gt;" in page, path
    typing = render_to_string("rooms/partials/typing.html", {"typist": user, "append": True})
    assert payload not in typing
