"""Attachments in the browser (issue 14 points 1, 2 and 7): an image pasted into the
composer and a file dropped on the room go with a caption by Enter, their progress bars
fill, and a second member sees the thumbnail and the file link arrive live; the
thumbnail opens the lightbox, Escape closes it. A refused upload keeps the caption and
the files and says why; so does a cancelled one, which saves nothing and can be sent
again. Axe-clean with a file pending and files shown; at phone width the composer with
a pending file does not overflow. No console error, no failed request."""

import os
import re
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from attachments.models import Attachment
from messages_app.models import Message
from tests.browser.test_sidebar_browser import AXE, AXE_PROBLEMS, PHONE, Tabs, room_socket_open
from tests.factories import MembershipFactory, RoomFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

# A PNG drawn in the page (so its bytes are a real image) put on a paste event's
# clipboard, as a screenshot pasted with Ctrl+V is.
PASTE_IMAGE = """async () => {
    const canvas = Object.assign(document.createElement("canvas"), {width: 1200, height: 800});
    const drawing = canvas.getContext("2d");
    drawing.fillStyle = "#1478c8";
    drawing.fillRect(0, 0, 1200, 800);
    drawing.fillStyle = "#f0a000";
    drawing.fillRect(100, 100, 400, 300);
    const blob = await new Promise(done => canvas.toBlob(done, "image/png"));
    const clipboard = new DataTransfer();
    clipboard.items.add(new File([blob], "screenshot.png", {type: "image/png"}));
    const event = new ClipboardEvent("paste", {clipboardData: clipboard, bubbles: true, cancelable: true});
    document.getElementById("composer-body").dispatchEvent(event);
    return event.defaultPrevented;
}"""

# A file dragged from the desktop and let go over the room's messages.
DROP_FILE = """([name, text]) => {
    const data = new DataTransfer();
    data.items.add(new File(text ? [text] : [], name, {type: "text/plain"}));
    const target = document.getElementById("messages");
    const over = new DragEvent("dragover", {dataTransfer: data, bubbles: true, cancelable: true});
    target.dispatchEvent(over);
    const dropping = document.getElementById("room").classList.contains("dropping");
    const drop = new DragEvent("drop", {dataTransfer: data, bubbles: true, cancelable: true});
    target.dispatchEvent(drop);
    return [over.defaultPrevented, dropping, drop.defaultPrevented];
}"""

# The highest value any upload bar reached (the bars are gone once the message is sent).
WATCH_PROGRESS = """() => {
    window.progressSeen = [];
    new MutationObserver(records => records.forEach(record => {
        if (record.target.localName === "progress") window.progressSeen.push(record.target.value);
    })).observe(document.getElementById("composer-uploads"),
                {subtree: true, attributes: true, attributeFilter: ["value"]});
}"""


# How far the furthest upload bar of the composer got (0 to 100).
PROGRESS_SHOWN = """() => Math.max(0, ...[...document.querySelectorAll("#composer-uploads progress")]
    .map(bar => bar.value))"""
PROGRESS_BEGUN = """() => [...document.querySelectorAll("#composer-uploads progress")]
    .some(bar => bar.value > 0)"""

# A slow uplink (bytes per second; -1: no throttling), so that an upload can be caught mid-way.
SLOW_UPLINK = {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 64 * 1024}
NO_THROTTLING = {**SLOW_UPLINK, "uploadThroughput": -1}
UPLOADING = re.compile(r"\buploading\b")


def room_with(*usernames):
    room = RoomFactory(name="Design")
    users = [UserFactory(username=name) for name in usernames]
    for user in users:
        MembershipFactory(room=room, user=user)
    return room, users


def open_room(tabs, room):
    page = tabs.open(f"/rooms/{room.slug}/")
    room_socket_open(page)
    return page


def paste_image(page):
    assert page.evaluate(PASTE_IMAGE) is True  # upload.js took the paste


def drop_file(page, name, text="the minutes of Monday\n"):
    assert page.evaluate(DROP_FILE, [name, text]) == [True, True, True]
    expect(page.locator("#room.dropping")).to_have_count(0)


def image_loaded(page, image):
    page.wait_for_function("image => image.complete && image.naturalWidth > 0", arg=image.element_handle())
    return image.evaluate("image => image.naturalWidth")


def pending(page):
    return page.locator("#composer-uploads li.upload")


def test_pasted_image_and_dropped_file_arrive_live_with_thumbnail_and_lightbox(asgi_server, new_context):
    mark = asgi_server.log_mark()
    room, (ann, ben) = room_with("ann", "ben")
    ann_tabs, ben_tabs = Tabs(new_context, asgi_server, ann), Tabs(new_context, asgi_server, ben)
    ben_page = open_room(ben_tabs, room)
    page = open_room(ann_tabs, room)
    page.evaluate(WATCH_PROGRESS)

    paste_image(page)
    drop_file(page, "minutes.txt")
    expect(pending(page)).to_have_count(2)
    expect(pending(page).nth(0).locator(".upload-name")).to_have_text("screenshot.png")
    expect(pending(page).nth(1).locator(".upload-name")).to_have_text("minutes.txt")
    expect(page.get_by_role("button", name="Remove minutes.txt")).to_be_visible()
    composer = page.locator("#composer-body")
    composer.fill("the new logo, and Monday's minutes")
    composer.press("Enter")

    # Sent: both bars filled, then the list and the field emptied.
    expect(pending(page)).to_have_count(0)
    expect(page.locator("#composer-uploads")).to_be_hidden()
    expect(composer).to_have_value("")
    assert max(page.evaluate("window.progressSeen"), default=0) == 100  # each bar filled
    message = Message.objects.get(room=room)
    assert message.body == "the new logo, and Monday's minutes"
    assert sorted(Attachment.objects.filter(message=message).values_list("name", flat=True)) == [
        "minutes.txt",
        "screenshot.png",
    ]

    # Ben sees it live: the thumbnail (loaded, its size reserved) and the file's link.
    shown = ben_page.locator(f'.message[data-id="{message.pk}"]')
    expect(shown).to_contain_text("the new logo, and Monday's minutes")
    thumbnail = shown.locator("ul.attachments li.attachment-image a[data-lightbox] img")
    expect(thumbnail).to_have_attribute("alt", "screenshot.png")
    # 1200x800 fits the thumbnail's 720x480 box, shown at half that (sharp on 2x screens).
    expect(thumbnail).to_have_attribute("width", "360")
    expect(thumbnail).to_have_attribute("height", "240")
    thumbnail.scroll_into_view_if_needed()
    assert image_loaded(ben_page, thumbnail) == 720
    file_link = shown.locator("ul.attachments li.attachment-file a[download]")
    expect(file_link).to_have_attribute("download", "minutes.txt")
    expect(file_link.locator(".file-name")).to_have_text("minutes.txt")
    expect(page.locator(f'.message[data-id="{message.pk}"] li.attachment')).to_have_count(2)  # Ann's too

    # The thumbnail opens the full picture; Escape closes it.
    lightbox = ben_page.locator("dialog#lightbox")
    thumbnail.click()
    expect(lightbox).to_have_attribute("open", "")
    full = lightbox.locator("img")
    expect(full).to_have_attribute("alt", "screenshot.png")
    assert image_loaded(ben_page, full) == 1200  # the original, not the thumbnail
    ben_page.keyboard.press("Escape")
    expect(lightbox).not_to_have_attribute("open", "")
    assert ann_tabs.problems == [] and ben_tabs.problems == []
    asgi_server.assert_clean_log(mark)


def test_a_refused_upload_keeps_the_caption_and_the_files_and_says_why(asgi_server, new_context):
    mark = asgi_server.log_mark()
    room, (ann, ben) = room_with("ann", "ben")
    ann_tabs, ben_tabs = Tabs(new_context, asgi_server, ann), Tabs(new_context, asgi_server, ben)
    ben_page = open_room(ben_tabs, room)
    page = open_room(ann_tabs, room)

    drop_file(page, "notes.txt")
    drop_file(page, "blank.txt", text="")  # 0 bytes: refused by the server
    expect(pending(page)).to_have_count(2)
    expect(pending(page).nth(1).locator(".upload-size")).to_have_text("0 bytes")
    composer = page.locator("#composer-body")
    composer.fill("two files for you")
    composer.press("Enter")

    expect(page.locator("#composer-errors")).to_have_text("blank.txt is empty.")
    expect(composer).to_have_value("two files for you")
    expect(pending(page).locator(".upload-name")).to_have_text(["notes.txt", "blank.txt"])
    expect(page.locator("#composer-uploads")).to_be_visible()
    expect(page.locator("#composer")).not_to_have_class("uploading")
    assert not Message.objects.exists() and not Attachment.objects.exists()

    # Taking the empty file out sends the rest, with the caption kept.
    page.get_by_role("button", name="Remove blank.txt").click()
    expect(composer).to_be_focused()
    composer.press("Enter")
    expect(composer).to_have_value("")
    expect(page.locator("#composer-errors")).to_have_text("")
    sent = ben_page.locator(".message", has_text="two files for you")
    expect(sent.locator("li.attachment-file")).to_have_count(1)
    assert list(Attachment.objects.values_list("name", flat=True)) == ["notes.txt"]
    expect(ben_page.locator("#messages")).not_to_contain_text("blank.txt")
    assert ann_tabs.problems == [] and ben_tabs.problems == []
    asgi_server.assert_clean_log(mark)


def stored_files(room):
    """What the server's storage (MEDIA_ROOT, shared with the test) holds for a room."""
    folder = Path(settings.MEDIA_ROOT) / "attachments" / str(room.pk)
    return sorted(path.name for path in folder.rglob("*") if path.is_file())


def test_cancel_stops_an_upload_saves_nothing_and_keeps_the_draft(asgi_server, new_context):
    mark = asgi_server.log_mark()
    room, (ann,) = room_with("ann")
    tabs = Tabs(new_context, asgi_server, ann)
    page = open_room(tabs, room)
    network = tabs.context.new_cdp_session(page)
    network.send("Network.enable")
    network.send("Network.emulateNetworkConditions", SLOW_UPLINK)

    recording = os.urandom(3 * 1024 * 1024)  # about 48 s at 64 KiB/s: still going when cancelled
    page.locator("#composer-files").set_input_files(
        {"name": "recording.bin", "mimeType": "application/octet-stream", "buffer": recording}
    )
    expect(pending(page).locator(".upload-name")).to_have_text(["recording.bin"])
    expect(pending(page).locator(".upload-size")).to_have_text(["3.0 MB"])
    composer = page.locator("#composer-body")
    composer.fill("the recording of the call")
    composer.press("Enter")

    cancel = page.get_by_role("button", name="Cancel upload")
    expect(cancel).to_be_visible()
    expect(page.locator("#composer")).to_have_class(UPLOADING)
    page.wait_for_function(PROGRESS_BEGUN)
    assert page.evaluate(PROGRESS_SHOWN) < 100  # caught mid-way
    cancel.click()

    # Stopped: the draft is all there, the bar back at nothing, the Cancel gone.
    cancelled = "Upload cancelled. Your message and files are still here."
    expect(page.locator("#composer-errors")).to_have_text(cancelled)
    expect(page.locator("#composer")).not_to_have_class(UPLOADING)
    expect(cancel).to_be_hidden()
    expect(composer).to_have_value("the recording of the call")
    expect(composer).to_be_focused()
    expect(pending(page).locator(".upload-name")).to_have_text(["recording.bin"])
    expect(pending(page).locator("progress")).to_have_js_property("value", 0)
    expect(page.get_by_role("button", name="Remove recording.bin")).to_be_visible()
    # Aborted before the server had the whole body, so its view never ran.
    assert not Message.objects.exists() and not Attachment.objects.exists()
    assert stored_files(room) == []

    # Sent again on a normal line: the same caption and file arrive, once.
    network.send("Network.emulateNetworkConditions", NO_THROTTLING)
    composer.press("Enter")
    expect(composer).to_have_value("")
    expect(pending(page)).to_have_count(0)
    expect(page.locator("#composer-errors")).to_have_text("")
    message = Message.objects.get(room=room)
    assert message.body == "the recording of the call"
    sent = page.locator(f'.message[data-id="{message.pk}"]')
    expect(sent.locator("li.attachment-file a[download]")).to_have_attribute("download", "recording.bin")
    attachment = Attachment.objects.get()
    assert attachment.message == message and attachment.file.read() == recording
    assert stored_files(room) == ["recording.bin"]
    assert tabs.problems == []
    # The server answered one upload, the second: the cancelled one never reached a view.
    assert asgi_server.log_text(mark).count(f'"POST /rooms/{room.slug}/messages/ ') == 1
    asgi_server.assert_clean_log(mark)


def test_axe_clean_with_files_pending_and_shown_and_no_overflow_at_phone_width(asgi_server, new_context):
    mark = asgi_server.log_mark()
    room, (ann,) = room_with("ann")
    tabs = Tabs(new_context, asgi_server, ann)
    tabs.context.add_init_script(path=AXE)
    page = open_room(tabs, room)

    paste_image(page)
    drop_file(page, "report.txt")
    page.locator("#composer-body").press("Enter")  # files alone, no caption
    expect(page.locator(".message li.attachment")).to_have_count(2)
    image_loaded(page, page.locator(".message .attachment-image img"))
    drop_file(page, "a-rather-long-file-name-for-a-small-screen-budget-2027-final-v3.txt")
    expect(pending(page)).to_have_count(1)
    assert page.evaluate(AXE_PROBLEMS) == []

    page.set_viewport_size(PHONE)
    expect(pending(page)).to_be_visible()
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
    composer = page.locator("#composer")
    assert composer.evaluate("form => form.scrollWidth <= form.clientWidth")
    upload = pending(page).first.bounding_box()
    assert upload["x"] >= 0 and upload["x"] + upload["width"] <= PHONE["width"]
    assert page.evaluate(AXE_PROBLEMS) == []
    assert tabs.problems == []
    asgi_server.assert_clean_log(mark)
