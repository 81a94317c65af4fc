"""The one place that reads the query parameters and form fields views accept: ids,
cursors, dates, page numbers, choices and search text.

A bad value raises BadParameter, which BadParameterMiddleware answers with a 400
naming the parameter: the error page, or to htmx an error fragment. Nothing the
reader sends reaches int(), datetime() or the database unchecked, so no input can
cause a 500 (issue 19). A view reads its room (readable_room_or_404) before its
parameters: a private room stays a 404 to outsiders whatever they send.

Absent and empty values are the same: the view's default.
"""

from django.core.exceptions import BadRequest
from django.shortcuts import render
from django.utils import timezone
from django.utils.dateparse import parse_datetime

# Ids are Postgres bigints (BigAutoField): larger numbers name no row.
MAX_ID = 2**63 - 1
# Dates outside these years are no sync time a page had, and near datetime's own limits
# arithmetic (a catch-up's overlap) overflows.
FIRST_YEAR, LAST_YEAR = 1970, 9000


class BadParameter(BadRequest):
    """A query parameter or form field with a value the view cannot use. A subclass of
    BadRequest, so that Django answers 400 even without the middleware."""

    def __init__(self, name, message):
        super().__init__(f"{name}: {message}")
        self.name, self.message = name, message


def _raw(data, name):
    return data.get(name, "") or ""


def _number(text, name, *, what, minimum, maximum):
    # str.isdigit() accepts "²" and "٣", which int() refuses or reads: ASCII digits only.
    # Leading zeros go before int(), which refuses more than 4,300 digits (a ValueError).
    digits = text.lstrip("0") or "0"
    if (
        not (text.isascii() and text.isdigit())
        or len(digits) > len(str(maximum))
        or not minimum <= int(digits) <= maximum
    ):
        raise BadParameter(name, f"expected {what}, got {text[:40]!r}.")
    return int(digits)


def _id(text, name, *, what):
    """0 or more; a number past every id (even past int()'s 4,300 digits) reads as
    MAX_ID: `?before=99999999999999999999` is the newest page, as it always was."""
    if text.isascii() and text.isdigit() and len(text.lstrip("0")) > len(str(MAX_ID)):
        return MAX_ID
    return min(_number(text, name, what=what, minimum=0, maximum=MAX_ID * 10), MAX_ID)


def id_param(data, name, *, default=None, lenient=False):
    """A row id or cursor (`before`, `after`, `around`). `lenient`: a bad value reads as
    the default, for a parameter a reader edits by hand in a link (`?around=`)."""
    text = _raw(data, name).strip()
    if not text:
        return default
    try:
        return _id(text, name, what="an id (a whole number, 0 or more)")
    except BadParameter:
        if lenient:
            return default
        raise


def int_param(data, name, *, minimum, maximum, default=None):
    """A whole number within [minimum, maximum] (seconds of slow mode, a page number)."""
    text = _raw(data, name).strip()
    if not text:
        return default
    what = f"a whole number from {minimum} to {maximum}"
    return _number(text, name, what=what, minimum=minimum, maximum=maximum)


def page_param(data, name="page"):
    """A page number, 1 by default; past the last page is the last page (Paginator.get_page)."""
    return int_param(data, name, minimum=1, maximum=MAX_ID, default=1)


def id_list_param(data, name, *, limit):
    """Comma-separated ids (`?ids=1,2,3`), at most `limit` of them read; parts that are
    no id are skipped (a page's poll asks again soon: a stray value costs nothing)."""
    parts = _raw(data, name).split(",")[:limit]
    return {value for part in parts if (value := id_param({name: part}, name, lenient=True)) is not None}


def datetime_param(data, name):
    """An ISO 8601 date and time (`changed_since`), aware; a naive one is in TIME_ZONE."""
    text = _raw(data, name).strip()
    if not text:
        return None
    what = f"a date and time (ISO 8601) from {FIRST_YEAR} to {LAST_YEAR}"
    try:
        value = parse_datetime(text)  # None for malformed text; ValueError for "2026-13-45T00:00"
    except ValueError:
        value = None
    # The year is checked before any time zone arithmetic, which could overflow near year 1.
    if value is None or not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise BadParameter(name, f"expected {what}, got {text[:40]!r}.")
    return value if timezone.is_aware(value) else timezone.make_aware(value)


def choice_param(data, name, choices, *, default=None):
    """One of `choices` (e.g. a preference's values)."""
    text = _raw(data, name)
    if not text and default is not None:
        return default
    if text not in choices:
        raise BadParameter(name, f"expected one of {', '.join(sorted(choices))}.")
    return text


def text_param(data, name, *, keep=None):
    """Free text (a search, a filter), stripped, at most `keep` characters kept. NUL goes:
    Postgres cannot store or compare it, and no reader means it."""
    text = _raw(data, name).replace("\x00", "").strip()
    return text[:keep] if keep is not None else text


def text_list_param(data, name):
    """A repeated field (`users=ann&users=bo`) as text_param reads each: in order, each
    once, empty ones left out."""
    values = (value.replace("\x00", "").strip() for value in data.getlist(name))
    return list(dict.fromkeys(value for value in values if value))


class BadParameterMiddleware:
    """Answer BadParameter with a 400 that names the parameter: the app's error page,
    or to htmx the fragment of an error (what the page shows for a refusal). No
    traceback is logged: the reader's input was wrong, not the server."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, BadParameter):
            return None
        context = {"parameter": exception.name, "problem": exception.message}
        htmx = request.headers.get("HX-Request") == "true"
        template = "partials/bad_parameter.html" if htmx else "400.html"
        return render(request, template, context, status=400)
