"""Link previews (issue 16, point 4): the first link of a message gets a card, fetched
by the background worker from a web server these tests start on loopback, never from
an address inside the network (SSRF), within bounds of time and size; the card shows
our stored copy of the picture, reaches open pages, and only its author removes it."""

import asyncio
import io
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from asgiref.sync import sync_to_async
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse
from django_tasks_db.models import DBTaskResult
from PIL import Image

from config.outbound import AddressRefused, CheckedSession
from messages_app import previews
from messages_app.models import LinkPreview, Message
from messages_app.previews import PreviewRefused, card_fetch, first_link, url_check
from messages_app.selectors import message_list_changed_since
from messages_app.services import message_delete, message_edit, message_post
from messages_app.tasks import link_preview_fetch
from messages_app.text import render_message_html
from tests.background import run_worker
from tests.factories import MembershipFactory, MessageFactory, UserFactory
from tests.sockets import joined_socket, live, receive_until
from tests.test_history import HISTORY_PAGE_MAX_QUERIES, ROOM_PAGE_MAX_QUERIES
from tests.test_settings import run_manage

TASK_PATH = "messages_app.tasks.link_preview_fetch"


# --- A web server on loopback --------------------------------------------------------------------


class WebServer:
    """Serves what a test routes (path -> response, or a function given the handler) and
    records every request that reached it."""

    def __init__(self):
        self.routes = {}
        self.requests = []
        self.stop = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append(self.path)
                route = server.routes.get(self.path)
                if route is None:
                    self.send_error(404)
                elif callable(route):
                    route(self, server.stop)
                else:
                    status, headers, body = route
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.origin = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def route(self, path, body=b"", *, content_type="text/html; charset=utf-8", status=200, headers=None):
        self.routes[path] = (status, {"Content-Type": content_type, **(headers or {})}, body)

    def close(self):
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def og_page(title="Release notes", description="What changed in 2.0", image="/picture.jpg", site="Example"):
    return f"""<!doctype html><html><head><title>Fallback title</title>
        <meta property="og:title" content="{title}">
        <meta property="og:description" content="{description}">
        <meta property="og:site_name" content="{site}">
        <meta property="og:image" content="{image}">
        </head><body><p>Hello</p></body></html>""".encode()


def jpeg(width=900, height=450):
    """A photo with EXIF (a camera model) that the stored copy must not keep."""
    exif = Image.Exif()
    exif[0x0110] = "SpyCam 3000"
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 40, 40)).save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


@pytest.fixture
def web():
    server = WebServer()
    server.route("/page", og_page())
    server.route("/picture.jpg", jpeg(), content_type="image/jpeg")
    yield server
    server.close()


@pytest.fixture
def loopback(settings):
    settings.LINK_PREVIEW_ALLOW_LOOPBACK = True


@pytest.fixture
def quick(monkeypatch):
    """Short bounds, so that the slow server is given up on soon."""
    monkeypatch.setattr(previews, "DEADLINE_SECONDS", 1.5)
    monkeypatch.setattr(previews, "READ_TIMEOUT_SECONDS", 0.5)


@pytest.fixture
def author(room):
    return MembershipFactory(room=room).user


def post(room, author, body):
    return message_post(room=room, author=author, body=body)


def preview_tasks():
    return DBTaskResult.objects.filter(task_path=TASK_PATH)


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


# --- The card --------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_worker_stores_the_card_and_our_own_copy_of_the_picture(room, author, web, loopback):
    message = post(room, author, f"have a look: {web.origin}/page and {web.origin}/other")
    assert preview_tasks().count() == 1
    run_worker()

    preview = LinkPreview.objects.get(message=message)
    assert (preview.url, preview.title) == (f"{web.origin}/page", "Release notes")
    assert (preview.description, preview.site_name) == ("What changed in 2.0", "Example")
    assert web.requests == ["/page", "/picture.jpg"]  # the first link only
    with default_storage.open(preview.image.name) as stored, Image.open(stored) as picture:
        assert picture.format == "WEBP" and max(picture.size) <= previews.IMAGE_MAX_SIDE
        assert (picture.width, picture.height) == (preview.image_width, preview.image_height) == (600, 300)
        assert "exif" not in picture.info and not picture.getexif()
    assert Message.objects.get(pk=message.pk).changed_at is not None  # catch-up and caches see it

    page = logged_in(author).get(room.get_absolute_url()).content.decode()
    image_url = f"/rooms/{room.slug}/messages/{message.pk}/preview/image/"
    assert 'class="link-preview"' in page and "Release notes" in page and "What changed in 2.0" in page
    assert f'src="{image_url}?v=' in page and 'width="600" height="300"' in page
    assert f"{web.origin}/picture.jpg" not in page  # never hot-linked
    assert 'rel="noopener noreferrer nofollow"' in page
    served = logged_in(author).get(image_url)
    assert served.status_code == 200 and served["Content-Type"] == "image/webp"
    assert b"".join(served.streaming_content).startswith(b"RIFF")


@pytest.mark.django_db(transaction=True)
def test_the_picture_is_served_only_to_those_who_read_the_room(room, author, web, loopback):
    room.is_private = True
    room.save()
    message = post(room, author, f"{web.origin}/page")
    run_worker()
    image_url = f"/rooms/{room.slug}/messages/{message.pk}/preview/image/"
    assert logged_in(author).get(image_url).status_code == 200
    assert logged_in(UserFactory()).get(image_url).status_code == 404


@live
async def test_the_card_reaches_an_open_page_and_a_reconnecting_one(room, author, web, loopback):
    socket = await joined_socket(room, author)
    await socket.send_json_to({"body": f"read {web.origin}/page"})
    await receive_until(socket, "/page")
    message = await Message.objects.alast()
    for _ in range(100):  # queued just after the broadcast, by the same on-commit callback
        if await preview_tasks().acount():
            break
        await asyncio.sleep(0.05)
    assert await preview_tasks().acount() == 1
    before = message.created_at

    await sync_to_async(link_preview_fetch.call)(message.pk)  # what the worker runs
    frames = await receive_until(socket, "link-preview", timeout=5)
    assert f'id="message-{message.pk}"' in frames[-1] and "Release notes" in frames[-1]
    changed = await sync_to_async(message_list_changed_since)(room=room, since=before)
    assert [m.pk for m in changed] == [message.pk]
    await socket.disconnect()


@pytest.mark.django_db(transaction=True)
def test_a_message_without_a_link_queues_nothing(room, author):
    post(room, author, "no link here, just `http://in.code/` and words")
    assert not preview_tasks().exists()


def test_the_first_link_is_the_first_http_link_the_body_shows():
    html = render_message_html(
        "mail me@example.com, see `http://code.example/` then www.example.org and https://b.example"
    )
    assert first_link(html) == "http://www.example.org"
    assert first_link(render_message_html("nothing")) is None


@pytest.mark.django_db(transaction=True)
def test_hostile_text_in_the_page_is_escaped(room, author, web, loopback):
    title = "&lt;script&gt;alert(1)&lt;/script&gt;"  # the page's HTML says <script>…
    description = "&quot;&gt;&lt;img src=x onerror=alert(2)&gt;"
    web.route("/page", og_page(title=title, description=description, site="&lt;b hx-get=/x&gt;"))
    message = post(room, author, f"{web.origin}/page")
    run_worker()
    assert LinkPreview.objects.get(message=message).title == "<script>alert(1)</script>"
    page = logged_in(author).get(room.get_absolute_url()).content.decode()
    card = page[page.index('class="link-preview"') :]
    card = card[: card.index("link-preview-remove")]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in card and "<script" not in card
    assert "<img src=x" not in card and "<b hx-get" not in card


# --- What gives no card (or no picture) ---------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_without_the_setting_loopback_is_never_asked(room, author, web):
    message = post(room, author, f"{web.origin}/page")
    run_worker()
    assert web.requests == []
    assert not LinkPreview.objects.filter(message=message).exists()
    assert "link-preview" not in logged_in(author).get(room.get_absolute_url()).content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/",
        "http://192.168.1.1/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:169.254.169.254]/",
        "http://127.0.0.1/",
        "http://0.0.0.0/",
        "http://224.0.0.1/",
        "http://240.0.0.1/",
        "http://[fe80::1]/",
        "http://[ff02::1]/",
        "http://[2002:7f00:1::]/",  # 6to4 of 127.0.0.1
        "http://[64:ff9b::7f00:1]/",  # NAT64 of 127.0.0.1
        "http://100.64.0.1/",
        "ftp://example.com/",
        "http://user:secret@example.com/",
        "http:///nohost",
    ],
)
def test_private_and_odd_urls_are_refused_before_any_connection(url, settings):
    settings.LINK_PREVIEW_ALLOW_LOOPBACK = False
    with pytest.raises(PreviewRefused):
        url_check(url)


@pytest.mark.parametrize("url", ["http://169.254.169.254/", "http://10.1.2.3/", "http://[fd00::1]/"])
def test_loopback_allowed_still_refuses_other_private_addresses(url, loopback):
    with pytest.raises(PreviewRefused):
        card_fetch(url)


def _rebinding_resolver(monkeypatch, host, port):
    """`host` resolves to a public address when checked, then to 127.0.0.1 (DNS rebinding)."""
    real, answers = socket.getaddrinfo, iter(["93.184.215.14"])

    def getaddrinfo(name, *args, **kwargs):
        if name != host:
            return real(name, *args, **kwargs)
        address = next(answers, "127.0.0.1")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def test_a_public_looking_host_that_connects_to_loopback_is_refused_at_connection_time(web, monkeypatch):
    _rebinding_resolver(monkeypatch, "news.example.com", web.port)
    with pytest.raises(PreviewRefused, match="not public"):
        card_fetch(f"http://news.example.com:{web.port}/page")
    assert web.requests == []  # connected, judged, closed: not a byte of request sent


def test_the_shared_session_judges_the_address_it_reached(web):
    with CheckedSession(allowed=lambda address: address.is_global) as session, pytest.raises(AddressRefused):
        session.get(f"{web.origin}/page", timeout=3)
    with CheckedSession(allowed=lambda address: address.is_loopback) as session:
        assert session.get(f"{web.origin}/page", timeout=3).status_code == 200
    assert web.requests == ["/page"]


@pytest.mark.django_db(transaction=True)
def test_a_redirect_to_a_private_address_is_refused(room, author, web, loopback):
    web.route("/go", status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"})
    web.route("/hop", status=301, headers={"Location": "/page"})
    with pytest.raises(PreviewRefused):
        card_fetch(f"{web.origin}/go")
    assert card_fetch(f"{web.origin}/hop").title == "Release notes"  # a redirect on a public host: followed

    message = post(room, author, f"{web.origin}/go")
    run_worker()
    assert not LinkPreview.objects.filter(message=message).exists()


def test_more_than_three_redirects_are_not_followed(web, loopback):
    for number in range(5):
        web.route(f"/r{number}", status=302, headers={"Location": f"/r{number + 1}"})
    web.route("/r5", og_page())
    with pytest.raises(PreviewRefused, match="redirects"):
        card_fetch(f"{web.origin}/r0")
    assert web.requests == ["/r0", "/r1", "/r2", "/r3"]


def _endless(handler, stop, *, declared=False):
    """A page that never ends (no length, or a false one), written as fast as it is read."""
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html")
    if declared:
        handler.send_header("Content-Length", str(50 * 1024 * 1024))
    handler.end_headers()
    handler.wfile.write(b"<html><head>")
    chunk = b"<meta name=x content=y>" * 1000
    try:
        for _ in range(10_000):  # 230 MB at most, should the client never stop
            if stop.is_set():
                return
            handler.wfile.write(chunk)
    except OSError:
        return  # the client gave up: what this test wants


def test_a_page_too_large_is_given_up(web, loopback):
    web.routes["/huge"] = _endless
    web.routes["/declared"] = lambda handler, stop: _endless(handler, stop, declared=True)
    with pytest.raises(PreviewRefused, match="too large"):
        card_fetch(f"{web.origin}/huge")
    with pytest.raises(PreviewRefused, match="too large"):
        card_fetch(f"{web.origin}/declared")


def _trickle(handler, stop):
    """Headers, then a byte at a time: each read comes in time, the whole never does."""
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html")
    handler.end_headers()
    try:
        while not stop.wait(0.05):
            handler.wfile.write(b" ")
            handler.wfile.flush()
    except OSError:
        return


def _silent(handler, stop):
    stop.wait(10)  # says nothing at all


def test_slow_servers_are_given_up(web, loopback, quick):
    web.routes["/trickle"] = _trickle
    web.routes["/silent"] = _silent
    with pytest.raises(PreviewRefused, match="slow|fetch failed"):
        card_fetch(f"{web.origin}/trickle")
    with pytest.raises(PreviewRefused, match="fetch failed"):
        card_fetch(f"{web.origin}/silent")


@pytest.mark.django_db(transaction=True)
def test_a_page_that_is_not_html_gives_no_card(room, author, web, loopback):
    web.route("/data.json", og_page(), content_type="application/json")
    web.route("/photo.jpg", jpeg(), content_type="image/jpeg")
    first, second = (
        post(room, author, f"{web.origin}/data.json"),
        post(room, author, f"{web.origin}/photo.jpg"),
    )
    run_worker()
    assert not LinkPreview.objects.filter(message__in=[first, second]).exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"<html>not a picture</html>", "image/png"),  # lies about its type
        (jpeg()[:400], "image/jpeg"),  # cut short
        (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "image/svg+xml"),
        (jpeg(), "text/html"),  # a picture not served as one
    ],
)
def test_a_picture_that_is_not_one_is_dropped_and_the_card_stays(
    room, author, web, loopback, body, content_type
):
    web.route("/picture.jpg", body, content_type=content_type)
    message = post(room, author, f"{web.origin}/page")
    run_worker()
    preview = LinkPreview.objects.get(message=message)
    assert preview.title == "Release notes" and not preview.image and preview.image_width is None
    page = logged_in(author).get(room.get_absolute_url()).content.decode()
    assert "link-preview-image" not in page and "Release notes" in page


def test_a_picture_too_large_is_dropped(web, loopback):
    web.routes["/picture.jpg"] = _endless
    card = card_fetch(f"{web.origin}/page")
    assert card.title == "Release notes" and card.image is None


def test_a_page_with_nothing_to_show_gives_no_card(web, loopback):
    web.route("/bare", b"<html><body>no head at all</body></html>")
    with pytest.raises(PreviewRefused):
        card_fetch(f"{web.origin}/bare")


def test_the_page_title_and_description_are_the_fallbacks_and_the_picture_url_is_resolved():
    html = """<title> Plain  title </title><meta name="description" content="Plain description">
        <meta name="twitter:image" content="img/a.png">"""
    meta = previews.page_meta(html, url="https://example.com/blog/post")
    assert meta == {
        "title": "Plain title",
        "description": "Plain description",
        "site_name": "",
        "image": "https://example.com/blog/img/a.png",
    }


# --- Removing the card, edits and deletions -----------------------------------------------------


@pytest.fixture
def carded(room, author, web, loopback):
    message = post(room, author, f"{web.origin}/page")
    run_worker()
    assert LinkPreview.objects.filter(message=message, removed_at=None).exists()
    return message


def remove_url(message):
    return f"/rooms/{message.room.slug}/messages/{message.pk}/preview/remove/"


@pytest.mark.django_db(transaction=True)
def test_only_the_author_removes_the_card(room, carded):
    other = MembershipFactory(room=room).user
    assert logged_in(other).post(remove_url(carded), HTTP_HX_REQUEST="true").status_code == 403
    assert LinkPreview.objects.get(message=carded).removed_at is None
    assert logged_in(carded.author).get(remove_url(carded)).status_code == 405

    response = logged_in(carded.author).post(remove_url(carded), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and f'id="message-{carded.pk}"' in response.content.decode()
    assert "link-preview" not in response.content.decode()
    assert LinkPreview.objects.get(message=carded).removed_at is not None
    page = logged_in(other).get(room.get_absolute_url()).content.decode()
    assert "Release notes" not in page


@pytest.mark.django_db(transaction=True)
def test_removing_without_javascript_redirects_to_the_room(room, carded):
    response = logged_in(carded.author).post(remove_url(carded))
    assert response.status_code == 303 and response["Location"] == room.get_absolute_url()
    assert LinkPreview.objects.get(message=carded).removed_at is not None


@pytest.mark.django_db(transaction=True)
def test_the_remove_button_shows_for_the_author_only(room, carded):
    css = logged_in(carded.author).get(reverse("viewer_css")).content.decode()
    assert f'.message[data-author="{carded.author_id}"] .link-preview-remove' in css


@live
async def test_a_removed_card_leaves_every_open_page(room, carded):
    watcher = await sync_to_async(lambda: MembershipFactory(room=room).user)()
    socket = await joined_socket(room, watcher)
    client = await sync_to_async(logged_in)(carded.author)
    await sync_to_async(client.post)(remove_url(carded), HTTP_HX_REQUEST="true")
    frames = await receive_until(socket, f'id="message-{carded.pk}"')
    assert "link-preview" not in frames[-1]
    await socket.disconnect()


@pytest.mark.django_db(transaction=True)
def test_a_removed_card_stays_removed_after_an_edit(room, author, carded, web):
    logged_in(author).post(remove_url(carded))
    queued = preview_tasks().count()
    message_edit(room=room, user=author, message_id=carded.pk, body=f"now {web.origin}/other-page")
    assert preview_tasks().count() == queued  # nothing asked for
    link_preview_fetch.call(carded.pk)
    assert LinkPreview.objects.get(message=carded).removed_at is not None
    assert "link-preview" not in logged_in(author).get(room.get_absolute_url()).content.decode()


@pytest.mark.django_db(transaction=True)
def test_an_edit_that_changes_the_first_link_replaces_the_card(room, author, carded, web):
    web.route("/second", og_page(title="Second page", image=""))
    queued = preview_tasks().count()
    message_edit(room=room, user=author, message_id=carded.pk, body=f"same link {web.origin}/page")
    assert preview_tasks().count() == queued  # the same first link: nothing to fetch
    message_edit(room=room, user=author, message_id=carded.pk, body=f"better: {web.origin}/second")
    assert preview_tasks().count() == queued + 1
    run_worker()
    preview = LinkPreview.objects.get(message=carded)
    assert preview.title == "Second page" and not preview.image

    message_edit(room=room, user=author, message_id=carded.pk, body="no link any more")
    run_worker()
    assert not LinkPreview.objects.filter(message=carded).exists()


@pytest.mark.django_db(transaction=True)
def test_a_deleted_message_shows_no_card_and_gets_none(room, author, carded, web):
    message_delete(room=room, user=author, message_id=carded.pk)
    page = logged_in(author).get(room.get_absolute_url()).content.decode()
    assert "Release notes" not in page
    assert logged_in(author).get(f"/rooms/{room.slug}/messages/{carded.pk}/preview/image/").status_code == 404

    later = post(room, author, f"{web.origin}/page")
    message_delete(room=room, user=author, message_id=later.pk)
    run_worker()
    assert not LinkPreview.objects.filter(message=later).exists()


# --- History, export, settings ---------------------------------------------------------------------


@pytest.mark.django_db
def test_history_pages_show_cards_without_a_query_per_message(room, author, django_assert_max_num_queries):
    messages = [MessageFactory(room=room, author=author, body=f"https://example.com/{n}") for n in range(60)]
    for message in messages:
        LinkPreview.objects.create(
            message=message, url=f"https://example.com/{message.pk}", title=f"Card {message.pk}"
        )
    client = logged_in(author)
    with django_assert_max_num_queries(ROOM_PAGE_MAX_QUERIES):
        page = client.get(room.get_absolute_url()).content.decode()
    assert page.count('class="link-preview"') == 50
    with django_assert_max_num_queries(HISTORY_PAGE_MAX_QUERIES):
        older = client.get(f"/rooms/{room.slug}/messages/?before={messages[10].pk}").content.decode()
    assert older.count('class="link-preview"') == 10


@pytest.mark.django_db
def test_the_export_carries_the_card_link_and_title(room, author):
    message = MessageFactory(room=room, author=author, body="https://example.com/a")
    LinkPreview.objects.create(message=message, url="https://example.com/a", title="A page")
    plain = MessageFactory(room=room, author=author, body="no link")
    document = json.loads(b"".join(logged_in(author).get(f"/rooms/{room.slug}/export/").streaming_content))
    cards = {m["id"]: m["link_preview"] for m in document["messages"]}
    assert cards == {message.pk: {"url": "https://example.com/a", "title": "A page"}, plain.pk: None}


def test_production_refuses_loopback_previews():
    production = {"DEBUG": "0", "SECRET_KEY": "x" * 50, "LINK_PREVIEW_ALLOW_LOOPBACK": "1"}
    result = run_manage("check", env=production)
    assert result.returncode != 0 and "LINK_PREVIEW_ALLOW_LOOPBACK" in result.stderr
