"""Message text: a Markdown subset rendered once, sanitised, with links and mentions."""

from html.parser import HTMLParser

import pytest

from messages_app.text import ALLOWED_TAGS, mention_candidates, render_message_html


class TagCollector(HTMLParser):
    """The real elements and attributes in a piece of HTML (text is ignored)."""

    def __init__(self, html):
        super().__init__()
        self.elements = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))


XSS_PAYLOADS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "<svg/onload=alert(1)>",
    '<a href="javascript:alert(1)">click</a>',
    "[click](javascript:alert(1))",
    "<iframe src=//evil.example></iframe>",
    '"><script>alert(1)</script>',
    "<<SCRIPT>alert(1);//<</SCRIPT>",
    "<body onload=alert(1)>",
    "`<script>alert(1)</script>`",
]


def test_bold_italic_inline_code_and_code_blocks():
    html = render_message_html("**bold** _italic_ `x = 1`\n```\nline <b>\n```")
    assert "<strong>bold</strong>" in html and "<em>italic</em>" in html
    assert "<code>x = 1</code>" in html
    assert "<pre><code>line &lt;b&gt;\n</code></pre>" in html


def test_line_breaks_are_kept():
    assert render_message_html("one\ntwo") == "<p>one<br>\ntwo</p>"


def test_other_markdown_stays_text():
    html = render_message_html("# title\n- item\n> quote")
    assert "<h1>" not in html and "<li>" not in html and "<blockquote>" not in html


def test_urls_become_safe_links():
    html = render_message_html("see https://example.com/a?b=1&c=2 now")
    assert (
        '<a href="https://example.com/a?b=1&amp;c=2" target="_blank" rel="nofollow noopener noreferrer">'
        in html
    )


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_html_from_users_is_never_rendered(payload):
    elements = TagCollector(render_message_html(payload)).elements
    for tag, attrs in elements:
        assert tag in ALLOWED_TAGS
        assert not any(name.startswith("on") for name in attrs)
        assert not attrs.get("href", "").lower().startswith("javascript")
    assert {tag for tag, _ in elements} <= {"p", "code"}


def test_mentions_of_members_are_marked_and_others_are_not():
    html = render_message_html("hi @bob and @eve, mail bob@example.com", mentionable={"bob": 7})
    assert '<span class="mention" data-user="7">@bob</span>' in html
    assert "@eve" in html and 'data-user="' not in html.split("@eve")[0].split("@bob</span>")[-1]
    assert "mailto:bob@example.com" in html


def test_mentions_inside_code_and_links_are_not_marked():
    html = render_message_html("`@bob` https://example.com/@bob", mentionable={"bob": 7})
    assert "mention" not in html


def test_mention_candidates_strip_trailing_punctuation():
    assert mention_candidates("thanks @bob. and @carol!") == {"bob", "carol"}
