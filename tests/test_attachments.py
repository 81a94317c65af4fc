"""Files and images in messages (issue 14): posting them with a message (the composer's
multipart POST), thumbnails, types judged by content, clean names, limits, downloads
checked on every request, deletion from storage, the files panel, the admin, the
orphan sweep and the live path. Against the filesystem storage (MEDIA_ROOT, a temporary
folder in tests); the S3 path is tests/test_storage.py."""

import io
import re
import socket
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from PIL import Image

from attachments.files import content_type_sniff, file_name_clean
from attachments.models import Attachment
from attachments.services import attachment_remove, orphans_remove
from messages_app.models import Message
from messages_app.selectors import message_search_plain
from messages_app.services import message_delete
from tests.clients import logged_in
from tests.factories import MembershipFactory, MessageFactory, RoomFactory, UserFactory
from tests.sockets import joined_socket, live, make_member, receive_until
from tests.test_storage import disposition_of, fetch, signed_query

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def png(width=40, height=30, colour="red"):
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "PNG")
    return out.getvalue()


def jpeg_turned(width=300, height=200):
    """A phone photo: EXIF says turn it 90° to show it (orientation 6), with a camera make."""
    exif = Image.Exif()
    exif[0x0112], exif[0x010F] = 6, "PhoneCam"
    out = io.BytesIO()
    Image.new("RGB", (width, height), "blue").save(out, "JPEG", exif=exif)
    return out.getvalue()


def animated_gif():
    frames = [Image.new("RGB", (20, 20), colour) for colour in ("red", "green", "blue")]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return out.getvalue()


def upload(name, data, content_type="application/octet-stream"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def post_files(client, room, *files, body=""):
    return client.post(reverse("room_messages", args=[room.slug]), {"body": body, "file": list(files)})


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """A storage folder of the test's own: what a test finds there, it put there."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def author(room):
    return MembershipFactory(room=room).user


def stored_names():
    """Every file under the attachments folder of the storage."""
    found = []
    if not default_storage.exists("attachments"):
        return found
    for room_folder in default_storage.listdir("attachments")[0]:
        for upload_folder in default_storage.listdir(f"attachments/{room_folder}")[0]:
            folder = f"attachments/{room_folder}/{upload_folder}"
            found += [f"{folder}/{name}" for name in default_storage.listdir(folder)[1]]
    return found


# --- posting ------------------------------------------------------------------------------


def test_a_message_with_a_caption_and_two_files_stores_both(room, author):
    response = post_files(
        logged_in(author), room, upload("diagram.png", png()), upload("notes.pdf", PDF), body="see these"
    )
    assert response.status_code == 303
    message = Message.objects.get(room=room)
    assert message.body == "see these"
    image, pdf = Attachment.objects.filter(message=message).order_by("id")
    assert (image.name, image.content_type, image.size, image.width, image.height) == (
        "diagram.png",
        "image/png",
        len(png()),
        40,
        30,
    )
    assert default_storage.open(image.file.name).read() == png()
    assert (pdf.name, pdf.content_type, pdf.thumbnail.name) == ("notes.pdf", "application/pdf", "")
    assert default_storage.open(pdf.file.name).read() == PDF
    assert image.room == pdf.room == room and image.uploader == author


def test_a_message_may_be_files_alone_but_not_nothing(room, author):
    client = logged_in(author)
    assert post_files(client, room, upload("a.pdf", PDF)).status_code == 303
    assert Message.objects.get(room=room).body == ""
    response = client.post(reverse("room_messages", args=[room.slug]), {"body": "  "})
    assert response.status_code == 400
    assert "Write something before sending." in response.content.decode()
    assert Message.objects.count() == 1


def test_the_room_page_shows_a_thumbnail_with_its_size_reserved_and_files_by_name(room, author):
    client = logged_in(author)
    post_files(client, room, upload("big.png", png(1600, 900)), upload("notes.pdf", PDF), body="look")
    image = Attachment.objects.get(content_type="image/png")
    html = client.get(room.get_absolute_url()).content.decode()
    thumb = reverse("attachment_thumbnail", args=[image.pk])
    # 1600 x 900 shown in a 360 x 240 box: 360 x 202, reserved so the log does not jump.
    assert re.search(rf'<img src="{thumb}" alt="big.png" width="360" height="202"', html)
    assert f'href="/attachments/{image.pk}/big.png" data-lightbox' in html
    assert re.search(r'download="notes.pdf">.*?notes.pdf.*?\d+ bytes · application/pdf', html, re.S)


def test_the_htmx_upload_answers_204_or_the_composers_error(room, author):
    client = logged_in(author)
    url = reverse("room_messages", args=[room.slug])
    sent = client.post(url, {"body": "", "file": [upload("a.pdf", PDF)]}, headers={"HX-Request": "true"})
    assert sent.status_code == 204
    refused = client.post(url, {"body": " "}, headers={"HX-Request": "true"})
    assert refused.status_code == 200
    assert (
        'id="composer-errors"' in refused.content.decode() and "Write something" in refused.content.decode()
    )


# --- images ---------------------------------------------------------------------------------


def test_a_photo_thumbnail_stands_upright_and_keeps_no_metadata(room, author):
    post_files(logged_in(author), room, upload("photo.jpg", jpeg_turned(300, 200)))
    photo = Attachment.objects.get()
    assert (photo.content_type, photo.width, photo.height) == ("image/jpeg", 200, 300)  # turned upright
    with Image.open(default_storage.open(photo.thumbnail.name)) as thumbnail:
        assert thumbnail.format == "WEBP"
        assert thumbnail.width < thumbnail.height
        assert (
            not thumbnail.getexif() and "exif" not in thumbnail.info and "icc_profile" not in thumbnail.info
        )
    assert (photo.thumbnail_width, photo.thumbnail_height) == (160, 240)


def test_an_animated_gif_stays_animated(room, author):
    client = logged_in(author)
    post_files(client, room, upload("party.gif", animated_gif()))
    gif = Attachment.objects.get()
    assert gif.thumbnail.name == gif.file.name  # shown as itself
    response = client.get(reverse("attachment_thumbnail", args=[gif.pk]))
    assert response["Content-Type"] == "image/gif"
    with Image.open(io.BytesIO(b"".join(response.streaming_content))) as shown:
        assert shown.is_animated and shown.n_frames == 3


# --- types, names -------------------------------------------------------------------------


def test_the_type_is_judged_by_the_bytes_not_the_name_or_the_browser(room, author):
    client = logged_in(author)
    page = b"<html><script>alert(1)</script></html>"
    post_files(
        client,
        room,
        upload("cute.png", page, content_type="image/png"),
        upload("report.txt", png(), content_type="text/plain"),
    )
    html_file, real_png = Attachment.objects.order_by("id")
    assert (html_file.content_type, html_file.thumbnail.name) == ("text/plain", "")
    assert real_png.content_type == "image/png" and real_png.thumbnail
    download = client.get(html_file.get_absolute_url())
    assert download["Content-Type"].startswith("text/plain")
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("given", "cleaned"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\secret.docx", "secret.docx"),
        ("evil\u202egnp.exe", "evilgnp.exe"),
        ("line\nbreak\r.txt", "linebreak.txt"),
        ('quote"s<tag>.txt', "quote_s_tag_.txt"),
        ("...", "file"),
        ("", "file"),
        ("a" * 300 + ".pdf", "a" * 116 + ".pdf"),
    ],
)
def test_file_names_are_cleaned(given, cleaned):
    assert file_name_clean(given) == cleaned


def test_a_hostile_name_is_escaped_in_the_page(room, author):
    client = logged_in(author)
    post_files(client, room, upload("<img src=x onerror=alert(1)>.pdf", PDF))
    html = client.get(room.get_absolute_url()).content.decode()
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;.pdf" in html or "_img src=x onerror=alert(1)_.pdf" in html


def test_text_is_told_from_binary():
    assert content_type_sniff(upload("a", "héllo, plain text\n".encode())) == "text/plain"
    assert content_type_sniff(upload("a", b"\x00\x01\x02binary")) == "application/octet-stream"


# --- limits ---------------------------------------------------------------------------------


def test_a_file_over_the_limit_is_refused_and_nothing_is_saved(room, author, settings):
    settings.ATTACHMENT_MAX_BYTES = 1000
    response = post_files(logged_in(author), room, upload("small.pdf", PDF), upload("big.bin", b"x" * 1001))
    assert response.status_code == 400
    assert "big.bin is larger than 1000 bytes" in response.content.decode()
    assert not Message.objects.exists() and not Attachment.objects.exists() and stored_names() == []


def test_too_many_files_in_one_message_are_refused(room, author, settings):
    settings.ATTACHMENT_MAX_FILES = 2
    response = post_files(logged_in(author), room, *(upload(f"{n}.pdf", PDF) for n in range(3)))
    assert response.status_code == 400
    assert "at most 2 files (this one has 3)" in response.content.decode()
    assert not Attachment.objects.exists() and stored_names() == []


def test_files_per_user_are_rate_limited_across_rooms(room, author, settings):
    settings.ATTACHMENT_RATE = (3, 600)
    other = RoomFactory()
    MembershipFactory(room=other, user=author)
    client = logged_in(author)
    assert post_files(client, room, upload("1.pdf", PDF), upload("2.pdf", PDF)).status_code == 303
    refused = post_files(client, other, upload("3.pdf", PDF), upload("4.pdf", PDF))
    assert refused.status_code == 400 and "at most 3 files every 10 minutes" in refused.content.decode()
    assert Attachment.objects.count() == 2 and len(stored_names()) == 2
    assert post_files(client, other, upload("3.pdf", PDF)).status_code == 303


def test_a_refused_message_leaves_no_file_behind(room, author, settings):
    settings.CHAT_RATE_LIMIT = "1/60"
    client = logged_in(author)
    assert post_files(client, room, upload("1.pdf", PDF), body="one").status_code == 303
    assert post_files(client, room, upload("2.pdf", PDF), body="two").status_code == 400
    assert Attachment.objects.count() == 1 and len(stored_names()) == 1


def test_a_non_member_cannot_attach_to_a_room(room, user):
    response = post_files(logged_in(user), room, upload("a.pdf", PDF))
    assert response.status_code == 400
    assert not Attachment.objects.exists() and stored_names() == []


# --- downloads ------------------------------------------------------------------------------


@pytest.fixture
def private_file(db):
    room = RoomFactory(is_private=True, kind="private")
    owner = MembershipFactory(room=room).user
    post_files(logged_in(owner), room, upload("plan.pdf", PDF), upload("shot.png", png()))
    return room, owner, Attachment.objects.get(name="plan.pdf"), Attachment.objects.get(name="shot.png")


def test_downloads_are_for_readers_of_the_room_only(private_file):
    room, owner, pdf, image = private_file
    member = logged_in(owner)
    response = member.get(pdf.get_absolute_url())
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF
    assert response["Content-Disposition"] == 'attachment; filename="plan.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert (
        response["Content-Security-Policy"].endswith("; sandbox")
        and "default-src 'self'" in response["Content-Security-Policy"]
    )
    shown = member.get(image.get_absolute_url())
    assert shown["Content-Disposition"] == 'inline; filename="shot.png"'

    stranger = logged_in(UserFactory())
    for url in (
        pdf.get_absolute_url(),
        image.get_absolute_url(),
        reverse("attachment_thumbnail", args=[image.pk]),
    ):
        assert stranger.get(url).status_code == 404
    assert stranger.get(reverse("room_files", args=[room.slug])).status_code == 404
    anonymous = Client().get(pdf.get_absolute_url())
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]


def test_a_download_by_a_forged_id_or_name_is_404(private_file):
    _, owner, pdf, _ = private_file
    client = logged_in(owner)
    assert client.get(f"/attachments/{pdf.pk}/other.pdf").status_code == 404
    assert client.get(f"/attachments/{pdf.pk + 1000}/plan.pdf").status_code == 404


def test_a_reader_of_a_public_room_may_download(room, author):
    post_files(logged_in(author), room, upload("open.pdf", PDF))
    reader = logged_in(UserFactory())
    assert reader.get(Attachment.objects.get().get_absolute_url()).status_code == 200


# --- deletion -------------------------------------------------------------------------------


def test_deleting_a_message_deletes_its_files_from_storage(room, author, django_capture_on_commit_callbacks):
    post_files(logged_in(author), room, upload("a.png", png()), upload("b.pdf", PDF))
    names = stored_names()
    assert len(names) == 3  # the picture, its thumbnail, the PDF
    message = Message.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        message_delete(room=room, user=author, message_id=message.pk)
    assert not Attachment.objects.exists()
    assert not any(default_storage.exists(name) for name in names)


def test_a_moderators_delete_removes_the_files_too(room, author, django_capture_on_commit_callbacks):
    moderator = MembershipFactory(room=room, role="moderator").user
    post_files(logged_in(author), room, upload("b.pdf", PDF))
    name = stored_names()[0]
    with django_capture_on_commit_callbacks(execute=True):
        response = logged_in(moderator).post(
            reverse("message_delete", args=[room.slug, Message.objects.get().pk])
        )
    assert response.status_code in (200, 303)
    assert not default_storage.exists(name) and not Attachment.objects.exists()


def test_the_sweep_removes_old_orphans_only(room, author):
    post_files(logged_in(author), room, upload("kept.pdf", PDF))
    kept = stored_names()
    orphan = default_storage.save(f"attachments/{room.pk}/abandoned/left.pdf", io.BytesIO(PDF))
    assert orphans_remove(older_than=timedelta(minutes=5)) == []  # too young to judge
    assert orphans_remove(older_than=timedelta(seconds=-1)) == [orphan]
    assert stored_names() == kept
    out = io.StringIO()
    call_command("attachments_sweep", "--min-age=0", stdout=out)
    assert "Removed 0 orphaned files." in out.getvalue()


# --- the files panel, history, admin ---------------------------------------------------------


def test_the_files_panel_lists_the_rooms_files_newest_first(room, author):
    client = logged_in(author)
    post_files(client, room, upload("first.pdf", PDF))
    post_files(client, room, upload("second.png", png()))
    MessageFactory(room=room)
    html = client.get(reverse("room_files", args=[room.slug])).content.decode()
    assert html.index("second.png") < html.index("first.pdf")
    assert (
        "No files shared"
        in logged_in(author).get(reverse("room_files", args=[RoomFactory().slug])).content.decode()
    )


def test_a_history_page_with_files_costs_the_same_queries(room, author, django_assert_max_num_queries):
    client = logged_in(author)
    for n in range(12):
        post_files(client, room, upload(f"{n}.png", png()), upload(f"{n}.pdf", PDF), body=f"files {n}")
    newest = Message.objects.filter(room=room).order_by("-id").first()
    url = reverse("room_messages", args=[room.slug]) + f"?before={newest.pk + 1}"
    with django_assert_max_num_queries(8):
        html = client.get(url).content.decode()
    assert html.count("data-lightbox") == 12 and html.count("application/pdf") == 12


def test_staff_see_files_in_the_admin_and_remove_one_from_storage(
    room, author, django_capture_on_commit_callbacks
):
    post_files(logged_in(author), room, upload("keep.pdf", PDF), upload("drop.pdf", PDF), body="two")
    drop = Attachment.objects.get(name="drop.pdf")
    staff = logged_in(UserFactory(is_staff=True, is_superuser=True))
    listing = staff.get(reverse("admin:attachments_attachment_changelist")).content.decode()
    assert "drop.pdf" in listing and author.username in listing and room.name in listing
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(
            reverse("admin:attachments_attachment_changelist"),
            {"action": "remove_selected", "_selected_action": [drop.pk]},
        )
    assert response.status_code == 302
    assert not default_storage.exists(drop.file.name)
    assert list(Attachment.objects.values_list("name", flat=True)) == ["keep.pdf"]
    page = logged_in(author).get(room.get_absolute_url()).content.decode()
    assert "keep.pdf" in page and "drop.pdf" not in page


# --- search by file name ----------------------------------------------------------------------


def search_hits(client, url, query):
    return client.get(url, {"q": query}).content.decode().count('class="search-result"')


@pytest.mark.parametrize("query", ["quarterly-report.pdf", "report.pdf", "report", "quarterly", "pdf"])
def test_search_finds_a_message_by_a_file_name_or_a_word_of_it(room, author, query):
    client = logged_in(author)
    post_files(client, room, upload("Quarterly-Report.pdf", PDF))
    post_files(client, room, upload("budget_v2.pdf", PDF), body="numbers")
    MessageFactory(room=room, body="nothing attached")
    hits = 1 if query != "pdf" else 2
    assert search_hits(client, reverse("room_search", args=[room.slug]), query) == hits
    assert search_hits(client, reverse("search"), query) == hits


def test_a_file_name_match_shows_the_name_in_the_excerpt_and_the_plain_matcher_finds_it_too(room, author):
    client = logged_in(author)
    post_files(client, room, upload("roadmap_2027.pdf", PDF), body="the plan")
    html = client.get(reverse("room_search", args=[room.slug]), {"q": "roadmap"}).content.decode()
    assert re.search(r'class="search-excerpt">the plan\s+roadmap_2027\.pdf</span>', html)
    (result,) = message_search_plain(messages=Message.objects.all(), query="MAP_20").results
    assert [part.text for part in result.excerpt if part.is_match] == ["map_20"]


def test_a_file_in_a_private_room_is_not_found_by_outsiders(private_file):
    room, owner, *_ = private_file
    assert search_hits(logged_in(UserFactory()), reverse("search"), "plan") == 0
    assert search_hits(logged_in(owner), reverse("search"), "plan") == 1


def test_a_removed_file_is_no_longer_found(room, author):
    client = logged_in(author)
    post_files(client, room, upload("keep.pdf", PDF), upload("dropped.pdf", PDF))
    attachment_remove(attachment=Attachment.objects.get(name="dropped.pdf"), actor=UserFactory(is_staff=True))
    assert Message.objects.get().parts_text == "keep.pdf"
    assert search_hits(client, reverse("search"), "dropped") == 0
    assert search_hits(client, reverse("search"), "keep") == 1


# --- live -------------------------------------------------------------------------------------


@live
async def test_files_reach_the_open_pages_in_the_messages_fragment(room):
    author, reader = await make_member(room), await make_member(room)
    socket = await joined_socket(room, reader)
    client = Client()
    await sync_to_async(client.force_login)(author)
    await sync_to_async(post_files)(client, room, upload("live.pdf", PDF), body="fresh file")
    frames = await receive_until(socket, "fresh file", timeout=5)
    assert "live.pdf" in frames[-1] and 'download="live.pdf"' in frames[-1]
    await socket.disconnect()


# --- on S3 (moto's server, tests/s3_server.py) ------------------------------------------------


def test_on_s3_files_land_in_the_bucket_and_download_by_a_short_signed_url(room, author, s3_storage):
    client = logged_in(author)
    post_files(client, room, upload("plan.pdf", PDF), upload("shot.png", png()), body="on s3")
    pdf, image = Attachment.objects.order_by("id")
    assert s3_storage.read(pdf.file.name) == PDF and s3_storage.read(image.file.name) == png()
    assert image.thumbnail.name in s3_storage.object_keys()

    response = client.get(pdf.get_absolute_url())
    assert response.status_code == 302 and response["X-Content-Type-Options"] == "nosniff"
    location = response["Location"]
    assert location.startswith(f"{s3_storage.server.endpoint_url}/{s3_storage.name}/")
    assert int(signed_query(location)["X-Amz-Expires"]) <= 300
    status, headers, body = fetch(location)
    assert status == 200 and body == PDF
    assert disposition_of(headers["Content-Disposition"]) == ("attachment", "plan.pdf")
    assert headers["Content-Type"] == "application/pdf"
    assert fetch(s3_storage.url(pdf.file.name))[0] == 403  # never public in the bucket
    assert logged_in(UserFactory()).get(pdf.get_absolute_url()).status_code == 302  # a public room's reader
    private = RoomFactory(is_private=True, kind="private")
    MembershipFactory(room=private, user=author)
    post_files(client, private, upload("secret.pdf", PDF))
    secret = Attachment.objects.get(name="secret.pdf")
    assert logged_in(UserFactory()).get(secret.get_absolute_url()).status_code == 404


def test_on_s3_a_deleted_messages_bytes_are_gone_from_the_bucket(
    room, author, s3_storage, django_capture_on_commit_callbacks
):
    post_files(logged_in(author), room, upload("shot.png", png()), upload("plan.pdf", PDF))
    assert len(s3_storage.object_keys()) == 3
    with django_capture_on_commit_callbacks(execute=True):
        message_delete(room=room, user=author, message_id=Message.objects.get().pk)
    assert s3_storage.object_keys() == []


def test_on_s3_the_sweep_removes_orphans(room, author, s3_storage):
    post_files(logged_in(author), room, upload("kept.pdf", PDF))
    kept = s3_storage.object_keys()
    orphan = default_storage.save(f"attachments/{room.pk}/abandoned/left.pdf", io.BytesIO(PDF))
    assert orphans_remove(older_than=timedelta(seconds=-60)) == [orphan]
    assert s3_storage.object_keys() == kept


# --- the request limit, on a real server process ----------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_body_over_the_limit_is_refused_before_it_is_sent(asgi_server, room):
    """Only the headers go out: the server answers 413 without waiting for the body."""
    with socket.create_connection(("127.0.0.1", asgi_server.port), timeout=10) as connection:
        connection.sendall(
            f"POST /rooms/{room.slug}/messages/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: {2**40}\r\n\r\n".encode()
        )
        answer = b""
        while chunk := connection.recv(4096):  # the server closes once it has answered
            answer += chunk
        answer = answer.decode()
    assert answer.startswith("HTTP/1.1 413")
    assert "files can be at most 25 MB each" in answer
