"""Full-text search of message bodies: the expression the GIN index is built on,
and excerpts turned into parts a template can render safely.

Postgres marks the matches in an excerpt (ts_headline) with two private-use
characters rather than HTML: the excerpt stays plain text, so the template
escapes all of it and adds <mark> itself. A body that contains the markers can
only move the highlighting, never inject HTML.
"""

import re
from dataclasses import dataclass

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchVectorField
from django.db.models import TextField, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Concat

# The configuration of the stored column search_document (migration 0006):
# the words of the body and of parts_text (migration 0007), GIN-indexed, with statistics
# of its own.
SEARCH_CONFIG = "english"
MATCH_START = "\ue000"
MATCH_STOP = "\ue001"
QUERY_MAX_LENGTH = 200
PLAIN_EXCERPT_CONTEXT = 60
_MARKERS = re.compile(f"([{MATCH_START}{MATCH_STOP}])")


@dataclass(frozen=True)
class ExcerptPart:
    text: str
    is_match: bool = False


def search_document():
    """The body's stored tsvector. Not a model field (SQLite has no such column), so
    named in SQL; the one table it can belong to is the message table."""
    return RawSQL('"messages_app_message"."search_document"', [], output_field=SearchVectorField())


def search_query(query):
    """Web search syntax: words, "a phrase", -excluded, or."""
    return SearchQuery(query, config=SEARCH_CONFIG, search_type="websearch")


def searched_text():
    """What a result's excerpt is cut from: the body, then its files' names."""
    return Concat("body", Value("\n"), "parts_text", output_field=TextField())


def search_headline(query):
    return SearchHeadline(
        searched_text(),
        search_query(query),
        config=SEARCH_CONFIG,
        start_sel=MATCH_START,
        stop_sel=MATCH_STOP,
        # One passage (not fragments): short messages are shown whole.
        max_words=35,
        min_words=15,
    )


def excerpt_from_headline(headline):
    """Split a marked-up headline into plain and matching parts."""
    parts, is_match = [], False
    for piece in _MARKERS.split(headline):
        if piece in (MATCH_START, MATCH_STOP):
            is_match = piece == MATCH_START
        elif piece:
            parts.append(ExcerptPart(piece, is_match))
    return parts


def plain_excerpt(body, query, *, context=PLAIN_EXCERPT_CONTEXT):
    """Without Postgres: the text around the first case-insensitive occurrence
    of the query, with that occurrence as the match."""
    start = body.lower().find(query.lower())
    if start < 0:
        return [ExcerptPart(body[: 2 * context])]
    stop = start + len(query)
    before = body[max(0, start - context) : start]
    after = body[stop : stop + context]
    parts = [
        ExcerptPart(("…" if start > context else "") + before),
        ExcerptPart(body[start:stop], is_match=True),
        ExcerptPart(after + ("…" if stop + context < len(body) else "")),
    ]
    return [part for part in parts if part.text]
