"""Emoji show in colour on a machine without an emoji font (this one has none: its only
fonts are DejaVu, whose 😀 is black and white), through the vendored Twemoji font: fetched
only for a page that shows an emoji, loaded, and drawn in colour by the page's own font
stack (issue 12, point 12). No failed request and no console error on the way."""

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import logged_in_context
from tests.factories import MembershipFactory, MessageFactory, RoomFactory

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT_MS = 10_000
FONT = "/static/vendor/twemoji-colr-15.0.3.woff2"

EMOJI_FACE_LOADED = """() => [...document.fonts].some(f => f.family === "Twemoji" && f.status === "loaded")"""

# Draws the emoji with the message body's computed font stack and counts clearly
# coloured pixels: a missing glyph is a black box or nothing, Twemoji's face is yellow.
COLOURED_PIXELS = """(text) => {
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = 64;
  const ctx = canvas.getContext("2d");
  const body = document.querySelector("#messages .message .body");
  ctx.font = `48px ${getComputedStyle(body).fontFamily}`;
  ctx.fillText(text, 4, 52);
  const pixels = ctx.getImageData(0, 0, 64, 64).data;
  let coloured = 0;
  for (let i = 0; i < pixels.length; i += 4) {
    const [r, g, b, a] = pixels.slice(i, i + 4);
    if (a > 200 && Math.max(r, g, b) - Math.min(r, g, b) > 80) coloured++;
  }
  return coloured;
}"""


class Watch:
    def __init__(self, context):
        self.problems, self.font_requests = [], []
        context.on("console", lambda m: m.type == "error" and self.problems.append(m.text))
        context.on("weberror", lambda e: self.problems.append(str(e.error)))
        context.on("requestfailed", lambda r: self.problems.append(f"failed {r.url} {r.failure}"))
        context.on("response", self._response)
        context.on("request", lambda r: r.url.endswith(FONT) and self.font_requests.append(r.url))

    def _response(self, response):
        if response.status >= 400:
            self.problems.append(f"{response.status} {response.url}")


def test_an_emoji_renders_in_colour_from_the_vendored_font(asgi_server, new_context):
    mark = asgi_server.log_mark()
    room = RoomFactory(name="Lunch")
    alice = MembershipFactory(room=room).user
    MessageFactory(room=room, body="Pizza at noon? 😀")
    context = logged_in_context(new_context, asgi_server, alice)
    context.set_default_timeout(TIMEOUT_MS)
    watch = Watch(context)
    page = context.new_page()

    page.goto("/")  # no emoji here: the font is not fetched
    expect(page.locator(".topbar")).to_be_visible()
    page.evaluate("document.fonts.ready.then(() => true)")
    assert watch.font_requests == []

    with page.expect_response(lambda r: r.url.endswith(FONT)) as font:
        page.goto(f"/rooms/{room.slug}/")
    assert font.value.status == 200
    expect(page.locator("#messages .message .body", has_text="😀")).to_be_visible()
    page.wait_for_function(EMOJI_FACE_LOADED)
    assert page.evaluate("document.fonts.check('16px Twemoji', '😀')") is True
    assert page.evaluate(COLOURED_PIXELS, "😀") > 100

    assert watch.problems == []
    asgi_server.assert_clean_log(since=mark)
