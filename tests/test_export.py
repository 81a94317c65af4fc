"""Room export (issue 17 point 6, issue 14 point 7): a reader downloads a room's
history as JSON or one self-contained HTML file, streamed a page of messages at a
time; `manage.py export_room` writes the same."""

import http.client
import json
import re
from datetime import UTC
from html.parser import HTMLParser

import pytest
from asgiref.sync import async_to_sync
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.http import StreamingHttpResponse
from django.test import AsyncClient, Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from attachments.models import Attachment
from messages_app import export
from messages_app.models import Message
from messages_app.services import message_delete, message_edit, message_post
from tests.clients import logged_in
from tests.factories import MembershipFactory, MessageFactory, RoomFactory, UserFactory

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
HOSTILE_BODY = "<script>alert(1)</script>"
HOSTILE_NAME = "<img src=x onerror=alert(1)>.pdf"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def author(room):
    return MembershipFactory(room=room, user=UserFactory(username="ann", display_name="Ann Lee")).user


def export_url(room, export_format=None):
    url = reverse("room_export", args=[room.slug])
    return f"{url}?format={export_format}" if export_format else url


def streamed_text(response):
    """The whole body of a streamed answer (sync or async pieces)."""
    assert isinstance(response, StreamingHttpResponse) and response.streaming
    content = response.streaming_content
    if hasattr(content, "__aiter__"):

        async def gather():
            return [piece async for piece in content]

        return b"".join(async_to_sync(gather)()).decode()
    return b"".join(content).decode()


# Tags whose presence would have the file fetch something (or run something).
FETCHING_TAGS = {"script", "link", "img", "iframe", "object", "embed", "video", "audio", "source"}


def tags_of(html):
    """[(tag, {attribute: value})] of the document, as a browser's parser reads them."""

    found = []

    class Tags(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, dict(attrs)))

    Tags().feed(html)
    return found


def history_with_a_file(room, author):
    """Three messages: plain, edited, with a file; and a deleted one left out."""
    first = message_post(room=room, author=author, body="hello **world**")
    edited = message_post(room=room, author=author, body="first draft")
    message_edit(room=room, user=author, message_id=edited.pk, body="second draft")
    gone = message_post(room=room, author=author, body="regretted")
    message_delete(room=room, user=author, message_id=gone.pk)
    with_file = message_post(
        room=room,
        author=author,
        body="the notes",
        files=[SimpleUploadedFile("notes.pdf", PDF, content_type="application/pdf")],
    )
    return first, Message.objects.get(pk=edited.pk), with_file


# --- JSON ---------------------------------------------------------------------------------


def test_the_json_export_holds_the_history_oldest_first_with_files_and_no_deleted_message(room, author):
    first, edited, with_file = history_with_a_file(room, author)
    response = logged_in(author).get(export_url(room, "json"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    today = timezone.now().strftime("%Y-%m-%d")
    assert response["Content-Disposition"] == f'attachment; filename="{room.slug}-{today}.json"'
    document = json.loads(streamed_text(response))

    assert document["room"]["slug"] == room.slug and document["room"]["name"] == room.name
    assert document["room"]["kind"] == "public"
    assert document["room"]["exported_at"].endswith("+00:00")
    assert [m["id"] for m in document["messages"]] == [first.pk, edited.pk, with_file.pk]
    plain, changed, filed = document["messages"]
    assert plain["body"] == "hello **world**"  # the text as written, not its HTML
    assert plain["author"] == {"username": "ann", "display_name": "Ann Lee"}
    assert plain["created_at"] == first.created_at.astimezone(UTC).isoformat()
    assert plain["created_at"].endswith("+00:00") and plain["edited_at"] is None
    assert plain["attachments"] == []
    assert changed["body"] == "second draft" and changed["edited_at"].endswith("+00:00")
    file = Attachment.objects.get(message=with_file)
    assert filed["attachments"] == [
        {
            "id": file.pk,
            "name": "notes.pdf",
            "size": len(PDF),
            "content_type": "application/pdf",
            "url": f"/attachments/{file.pk}/notes.pdf",
        }
    ]


def test_an_empty_room_is_a_valid_document_and_json_is_the_default(room, author):
    document = json.loads(streamed_text(logged_in(author).get(export_url(room))))
    assert document["messages"] == [] and document["room"]["slug"] == room.slug


def test_a_message_whose_author_is_gone_is_exported_without_one(room, author):
    MessageFactory(room=room, author=None, body="orphan")
    document = json.loads(streamed_text(logged_in(author).get(export_url(room))))
    assert [(m["author"], m["body"]) for m in document["messages"]] == [(None, "orphan")]


def test_pages_join_into_one_document_in_order(room, author, monkeypatch):
    monkeypatch.setattr(export, "EXPORT_PAGE_SIZE", 3)
    bodies = [f"line {n}" for n in range(10)]  # 3 full pages and a short one
    for body in bodies:
        MessageFactory(room=room, author=author, body=body)
    document = json.loads(streamed_text(logged_in(author).get(export_url(room))))
    assert [m["body"] for m in document["messages"]] == bodies


def test_the_export_is_streamed_under_asgi_too(room, author):
    """Django would read a plain iterator into one list under ASGI: the view hands it
    an async one there, whose pieces are the pages."""
    MessageFactory(room=room, author=author, body="via asgi")

    async def fetch():
        client = AsyncClient()
        await client.aforce_login(author)
        response = await client.get(export_url(room, "json"))
        return response, [piece async for piece in response.streaming_content]

    response, pieces = async_to_sync(fetch)()
    assert response.status_code == 200 and response.streaming
    assert len(pieces) == 3  # the start, the one page, the end
    assert json.loads(b"".join(pieces))["messages"][0]["body"] == "via asgi"


# --- HTML ---------------------------------------------------------------------------------


def test_the_html_export_is_one_self_contained_file_with_hostile_text_escaped(room, author):
    message_post(room=room, author=author, body=HOSTILE_BODY)
    message_post(
        room=room,
        author=author,
        body="",
        files=[SimpleUploadedFile(HOSTILE_NAME, PDF, content_type="application/pdf")],
    )
    message_post(room=room, author=author, body="see **this**")
    response = logged_in(author).get(export_url(room, "html"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert response["Content-Disposition"].endswith(f'-{timezone.now():%Y-%m-%d}.html"')
    html = streamed_text(response)

    assert html.startswith("<!doctype html>") and html.rstrip().endswith("</html>")
    assert "<style>" in html
    tags = tags_of(html)
    assert [tag for tag, _ in tags].count("article") == 3
    assert not {tag for tag, _ in tags} & FETCHING_TAGS
    assert not [attrs for _, attrs in tags if {"src", "srcset", "style"} & set(attrs)]
    assert not re.search(r"url\(|@import|@font-face", html, re.IGNORECASE)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;.pdf" in html or "_img src=x onerror=alert(1)_.pdf" in html
    assert "<strong>this</strong>" in html  # the body as the room shows it, sanitised
    assert "Ann Lee" in html and "@ann" in html
    assert '<base href="http://testserver/">' in html  # file links lead to the site


def test_the_html_export_shows_times_in_utc_whatever_the_zone(room, author, settings):
    settings.TIME_ZONE = "Asia/Tokyo"
    message = message_post(room=room, author=author, body="late")
    html = streamed_text(logged_in(author).get(export_url(room, "html")))
    assert f"{message.created_at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC" in html


def test_a_mention_in_the_html_names_the_person_as_they_are_called_now(room, author):
    bo = MembershipFactory(room=room, user=UserFactory(username="bo")).user
    message_post(room=room, author=author, body="hi @bo")
    bo.display_name = "Bo Renamed"
    bo.save()
    assert "Bo Renamed" in streamed_text(logged_in(author).get(export_url(room, "html")))


# --- who may export ---------------------------------------------------------------------


def test_a_private_room_is_404_to_an_outsider_and_exports_for_a_member():
    vault = RoomFactory(is_private=True)
    insider = MembershipFactory(room=vault).user
    MessageFactory(room=vault, author=insider, body="secret plan")
    for export_format in ("json", "html", "nonsense"):
        response = logged_in(UserFactory()).get(export_url(vault, export_format))
        assert response.status_code == 404
        assert b"secret plan" not in response.content
    assert "secret plan" in streamed_text(logged_in(insider).get(export_url(vault)))


def test_a_reader_of_a_public_room_may_export_it_as_they_may_read_its_history(room, author):
    """Like the room's history pages (readable_room_or_404): a public room is open to read."""
    MessageFactory(room=room, author=author, body="in the open")
    outsider = logged_in(UserFactory())
    assert outsider.get(reverse("room_messages", args=[room.slug]) + "?before=999999").status_code == 200
    assert "in the open" in streamed_text(outsider.get(export_url(room)))


def test_a_banned_member_may_not_export(room, author):
    banned = MembershipFactory(room=room, banned_at=timezone.now()).user
    MessageFactory(room=room, author=author, body="after the ban")
    response = logged_in(banned).get(export_url(room))
    assert response.status_code == 403 and b"after the ban" not in response.content


def test_anonymous_visitors_are_sent_to_log_in(room):
    response = Client().get(export_url(room))
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))


def test_a_bad_format_is_400_naming_the_parameter(room, author):
    response = logged_in(author).get(export_url(room, "pdf"))
    assert response.status_code == 400
    assert "format" in response.content.decode()


def test_export_answers_get_only(room, author):
    assert logged_in(author).post(export_url(room)).status_code == 405


# --- the command --------------------------------------------------------------------------


def test_the_command_writes_the_same_json_as_the_page(room, author, tmp_path):
    history_with_a_file(room, author)
    page = json.loads(streamed_text(logged_in(author).get(export_url(room, "json"))))
    output = tmp_path / "room.json"
    call_command("export_room", room.slug, "--format", "json", "--output", str(output))
    written = json.loads(output.read_text(encoding="utf-8"))
    assert written["messages"] == page["messages"]
    assert {k: v for k, v in written["room"].items() if k != "exported_at"} == {
        k: v for k, v in page["room"].items() if k != "exported_at"
    }


def test_the_command_writes_html_to_standard_output(room, author, capsys):
    message_post(room=room, author=author, body=HOSTILE_BODY)
    call_command("export_room", room.slug, "--format", "html")
    html = capsys.readouterr().out
    assert html.startswith("<!doctype html>") and "&lt;script&gt;alert(1)" in html
    assert "<base" not in html  # no site address given


def test_the_command_refuses_an_unknown_room(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No room"):
        call_command("export_room", "no-such-room")


# --- cost ---------------------------------------------------------------------------------


def queries_of_export(room, export_format):
    chunks = export.export_chunks(room, export_format=export_format)
    with CaptureQueriesContext(connection) as queries:
        for _ in chunks:
            pass
    return len(queries)


@pytest.mark.parametrize("export_format", ["json", "html"])
def test_queries_grow_with_pages_not_messages(room, author, monkeypatch, export_format):
    """Per page: the messages with their authors, the files, the reactions and (HTML,
    when any message mentions someone) the names mentioned."""
    monkeypatch.setattr(export, "EXPORT_PAGE_SIZE", 4)

    def add(count):
        for n in range(count):
            files = [SimpleUploadedFile(f"{n}.pdf", PDF, content_type="application/pdf")]
            message_post(room=room, author=author, body=f"hi @ann {n}", files=files)

    add(3)  # one short page
    one_page = queries_of_export(room, export_format)
    add(9)  # three pages, the last one full: one more query finds nothing after it
    three_pages = queries_of_export(room, export_format)
    per_page = 4 if export_format == "html" else 3
    assert one_page == per_page
    assert three_pages == 3 * per_page + 1


def test_the_page_costs_a_fixed_number_of_queries_for_many_messages(
    room, author, monkeypatch, django_assert_max_num_queries
):
    monkeypatch.setattr(export, "EXPORT_PAGE_SIZE", 1000)
    Message.objects.bulk_create(
        Message(room=room, author=author, body=f"bulk {n}", body_html=f"<p>bulk {n}</p>") for n in range(300)
    )
    client = logged_in(author)
    with django_assert_max_num_queries(7):  # session, user, room, membership; messages, files, reactions
        text = streamed_text(client.get(export_url(room, "html")))
    assert text.count('class="message"') == 300


# --- on a real server process -------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_real_server_streams_the_export_without_reading_it_whole(asgi_server, room, author):
    """uvicorn and Django's ASGI handler, as production runs them: the pieces are sent
    as they are made (chunked), the pages read in the request's thread, and Django never
    falls back to reading a plain iterator into a list (it warns when it does)."""
    for n in range(5):
        MessageFactory(room=room, author=author, body=f"served {n}")
    mark = asgi_server.log_mark()
    session = logged_in(author).cookies["sessionid"].value
    connection = http.client.HTTPConnection("127.0.0.1", asgi_server.port, timeout=10)
    connection.request("GET", export_url(room, "json"), headers={"Cookie": f"sessionid={session}"})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    assert response.status == 200
    assert response.getheader("Transfer-Encoding") == "chunked"
    assert response.getheader("Content-Length") is None
    assert [m["body"] for m in json.loads(body)["messages"]] == [f"served {n}" for n in range(5)]
    assert "must consume synchronous iterators" not in asgi_server.log_text(since=mark)
    asgi_server.assert_clean_log(since=mark)


def test_the_room_menu_offers_both_exports(room, author):
    client = logged_in(author)
    page = client.get(room.get_absolute_url()).content.decode()
    links = re.findall(r'<a href="([^"]+\?format=(html|json))" download>', page)
    assert [kind for _, kind in links] == ["html", "json"]
    for url, kind in links:
        response = client.get(url.replace("&amp;", "&"))
        assert response.status_code == 200 and f'.{kind}"' in response["Content-Disposition"]
