"""Link previews in the browser (issue 16 point 4): the card shows our copy of the
picture in the space it reserved, is axe-clean and fits a phone; its author (only)
sees the × and takes the card away by keyboard, and it leaves the other member's open
page too. No console error, no failed request."""

import io

import pytest
from PIL import Image
from playwright.sync_api import expect

from messages_app.models import LinkPreview
from messages_app.previews import Card, image_redraw
from messages_app.services import link_preview_store
from tests.browser.helpers import as_server_code
from tests.browser.test_attachments_browser import image_loaded, open_room, room_with
from tests.browser.test_sidebar_browser import AXE, AXE_PROBLEMS, PHONE, Tabs
from tests.factories import MessageFactory

pytestmark = pytest.mark.django_db(transaction=True)


def carded_message(room, author):
    message = MessageFactory(room=room, author=author, body="notes at https://example.com/notes")
    raw = io.BytesIO()
    Image.new("RGB", (800, 400), (20, 120, 200)).save(raw, "PNG")
    image, width, height = image_redraw(raw.getvalue())
    card = Card(
        url="https://example.com/notes",
        title="Meeting notes of a rather long title that has to wrap on a small phone screen",
        description="Everything we decided on Monday, and the open questions. " * 5,
        site_name="Example",
        image=image,
        image_width=width,
        image_height=height,
    )
    assert as_server_code(link_preview_store, message_id=message.pk, card=card) is not None
    return message


def test_the_card_is_axe_clean_fits_a_phone_and_its_author_removes_it_by_keyboard(asgi_server, new_context):
    mark = asgi_server.log_mark()
    room, (ann, ben) = room_with("ann", "ben")
    message = carded_message(room, ann)
    ann_tabs, ben_tabs = Tabs(new_context, asgi_server, ann), Tabs(new_context, asgi_server, ben)
    ann_tabs.context.add_init_script(path=AXE)
    ann_page, ben_page = open_room(ann_tabs, room), open_room(ben_tabs, room)

    card = ann_page.locator(f"#message-{message.pk} .link-preview")
    expect(card.locator(".link-preview-title")).to_have_attribute("href", "https://example.com/notes")
    assert image_loaded(ann_page, card.locator("img")) == 600
    expect(card.locator(".link-preview-remove button")).to_be_visible()
    expect(ben_page.locator(f"#message-{message.pk} .link-preview")).to_be_visible()
    expect(ben_page.locator(f"#message-{message.pk} .link-preview-remove button")).to_be_hidden()
    assert ann_page.evaluate(AXE_PROBLEMS) == []

    ann_page.set_viewport_size(PHONE)
    assert ann_page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
    box = card.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert ann_page.evaluate(AXE_PROBLEMS) == []

    card.locator(".link-preview-remove button").focus()
    ann_page.keyboard.press("Enter")
    expect(ann_page.locator(f"#message-{message.pk} .link-preview")).to_have_count(0)
    expect(ben_page.locator(f"#message-{message.pk} .link-preview")).to_have_count(0)
    assert LinkPreview.objects.get(message=message).removed_at is not None
    assert ann_tabs.problems == [] and ben_tabs.problems == []
    asgi_server.assert_clean_log(mark)
