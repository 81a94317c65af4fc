"""Query parameters and form fields are read in one place (config/params.py): a bad
value is a 400 that names the parameter, never a 500 (issue 19). Every URL with
generated parameters: tests/test_params_walk.py."""

import logging
import sys

import pytest
from django.http import QueryDict
from django.test import override_settings

from config.params import BadParameter, datetime_param, id_list_param, id_param, page_param, text_param
from messages_app.services import message_post
from tests.conftest import tracebacks
from tests.factories import RoomFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def catch_up(client, room, changed_since, headers=None):
    return client.get(
        f"/rooms/{room.slug}/messages/", {"after": 1, "changed_since": changed_since}, headers=headers
    )


def assert_names(response, parameter):
    assert response.status_code == 400
    assert f'data-parameter="{parameter}"' in response.content.decode()
    assert f"<code>{parameter}</code>" in response.content.decode()


def test_an_impossible_date_in_the_catch_up_is_a_400_naming_changed_since(client, room, member):
    client.force_login(member)
    response = catch_up(client, room, "2026-13-45T00:00:00")
    assert_names(response, "changed_since")
    assert [t.name for t in response.templates][0] == "400.html"


def test_the_smallest_date_in_the_catch_up_is_a_400_not_an_overflow(client, room, member):
    client.force_login(member)
    assert_names(catch_up(client, room, "0001-01-01T00:00:00"), "changed_since")


@override_settings(DEBUG=False)
def test_the_400_page_is_the_apps_error_page_in_production(client, room, member):
    client.force_login(member)
    response = catch_up(client, room, "2026-13-45T00:00:00")
    page = response.content.decode()
    assert response.status_code == 400
    assert '<header class="topbar">' in page and '<a class="button" href="/">Back to the rooms</a>' in page
    assert "Traceback" not in page


def test_to_htmx_the_400_is_the_pages_error_fragment(client, room, member):
    client.force_login(member)
    response = catch_up(client, room, "not a date", headers=HTMX)
    assert_names(response, "changed_since")
    assert [t.name for t in response.templates] == ["partials/bad_parameter.html"]
    assert response.content.decode().startswith('<p class="error" role="alert"')


def test_valid_catch_up_still_answers_with_the_changes(client, room, member):
    message_post(room=room, author=member, body="first")
    client.force_login(member)
    for since in ("2000-01-01T00:00:00Z", "2026-01-01T10:00:00+02:00", "2026-01-01T10:00:00", ""):
        response = catch_up(client, room, since)
        assert response.status_code == 200, since


@pytest.mark.parametrize(
    "query, parameter",
    [
        ("?before=%C2%B2", "before"),  # "²": str.isdigit() says yes, int() says no
        ("?after=-1", "after"),
        ("?after=1.5", "after"),
        ("?after=1&changed_since=2026-01-01T00:00:00%2B99:00", "changed_since"),
    ],
)
def test_bad_cursors_of_the_history_name_their_parameter(client, room, member, query, parameter):
    client.force_login(member)
    assert_names(client.get(f"/rooms/{room.slug}/messages/{query}"), parameter)


def test_search_people_around_and_presence_parameters(client, room, member):
    client.force_login(member)
    assert client.get(f"/rooms/{room.slug}/?around=x").status_code == 200  # read as the newest, by design
    assert_names(client.get(f"/rooms/{room.slug}/search/?q=a&before=%C2%B2"), "before")
    assert_names(client.get("/people/?page=0"), "page")
    assert client.get("/presence/people/?ids=1,%C2%B2").status_code == 200  # stray ids skipped, by design
    assert client.get("/people/?page=99").status_code == 200  # past the end: the last page, as before


def test_a_private_room_is_a_404_to_outsiders_before_its_parameters_are_read(client, user):
    private = RoomFactory(is_private=True)
    client.force_login(user)
    assert client.get(f"/rooms/{private.slug}/messages/?after=1&changed_since=2026-13-45").status_code == 404


# --- config/params.py itself --------------------------------------------------------------------


def q(text="", **values):
    """A QueryDict from a query string and/or values that need no encoding by hand."""
    data = QueryDict(text, mutable=True)
    data.update(values)
    return data


def test_ids_are_ascii_digits_within_a_bigint():
    assert id_param(q("after=42"), "after") == 42
    assert id_param(q("after="), "after") is None and id_param(q(""), "after", default=7) == 7
    # Past every id is the largest id (a cursor beyond the newest message), however long.
    assert (
        id_param(q(after="9" * 5000), "after")
        == id_param(q(after="9223372036854775808"), "after")
        == 2**63 - 1
    )
    for bad in ("-1", "1.5", "0x10", "٣", "²", "1e3", "9" * 5000 + "x"):
        with pytest.raises(BadParameter) as raised:
            id_param(q(after=bad), "after")
        assert raised.value.name == "after"


def test_dates_are_aware_and_within_years_that_do_not_overflow():
    assert datetime_param(q("t=2026-01-02T03:04:05"), "t").tzinfo is not None
    assert datetime_param(q(""), "t") is None
    for bad in ("2026-13-45T00:00:00", "0001-01-01T00:00:00", "9999-12-31T23:59:59", "yesterday"):
        with pytest.raises(BadParameter):
            datetime_param(q(t=bad), "t")


def test_leading_zeros_and_numbers_past_int_s_limit_are_read_or_refused_never_a_crash():
    padded = "0" * 5000 + "1"  # int() refuses more than 4,300 digits with a ValueError
    assert id_param(q(after=padded), "after") == 1 and page_param(q(page=padded)) == 1
    for bad in ("9" * 5000, "0" * 5000, str(2**63)):
        with pytest.raises(BadParameter) as raised:
            page_param(q(page=bad))
        assert raised.value.name == "page"


def test_pages_id_lists_and_text():
    assert page_param(q("")) == 1 and page_param(q("page=3")) == 3
    assert id_list_param(q("ids=1,2,,3"), "ids", limit=2) == {1, 2}
    assert id_list_param(q("ids=x,-3,%C2%B2,4"), "ids", limit=9) == {4}
    assert text_param(q(q=" a\x00b "), "q", keep=2) == "ab"


@pytest.mark.parametrize(
    "request_kwargs",
    [
        {"path": "/", "HTTP_HOST": "evil.example"},  # DisallowedHost
        {"path": "/search/?" + "&".join(f"f{n}=1" for n in range(1100))},  # TooManyFieldsSent
    ],
    ids=["a-host-we-do-not-serve", "too-many-fields"],
)
def test_a_request_django_refuses_as_suspicious_is_a_400_and_one_warning_line(
    client, member, caplog, request_kwargs
):
    client.force_login(member)
    response = client.get(**request_kwargs)
    assert response.status_code == 400
    refused = [record for record in caplog.records if record.name.startswith("django.security.")]
    assert refused and all(r.levelname == "WARNING" and r.exc_info is None for r in refused)


def test_the_log_check_finds_an_error_with_a_traceback_and_nothing_less():
    try:
        raise ValueError("boom")
    except ValueError:
        failure = sys.exc_info()
    error = logging.LogRecord("app", logging.ERROR, __file__, 1, "failed", (), failure)
    warning = logging.LogRecord("app", logging.WARNING, __file__, 1, "failed", (), failure)
    plain_error = logging.LogRecord("app", logging.ERROR, __file__, 1, "failed", (), None)
    assert tracebacks([error, warning, plain_error]) == ["app: failed (ValueError)"]
