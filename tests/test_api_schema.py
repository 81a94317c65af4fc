"""The REST API against its own OpenAPI document (/api/v1/openapi.json), with
schemathesis, in-process through the project's WSGI application: every operation,
with generated valid and invalid input (negative data too), authenticated with a real
write token. No input gets a 500, every answer is one the document declares (status,
content type, body schema), and invalid input is refused with a 4xx.

Most generated room slugs and message ids are replaced by real ones (the room
and messages of the fixture), so that the operations are walked past the 404 too."""

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from api.services import token_create
from config.wsgi import application
from messages_app.services import message_post
from rooms.models import Membership
from tests.factories import MembershipFactory, RoomFactory, UserFactory

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
SLUG = "walked"
MESSAGE_IDS = []


@schema.hook
def map_path_parameters(context, path_parameters):
    """Three generated slugs in four become the real room, three message ids in four real ones."""
    if not path_parameters:
        return path_parameters
    if len(str(path_parameters.get("slug", ""))) % 4:
        path_parameters["slug"] = SLUG
    message_id = path_parameters.get("message_id")
    if isinstance(message_id, int) and MESSAGE_IDS and message_id % 4:
        path_parameters["message_id"] = MESSAGE_IDS[message_id % len(MESSAGE_IDS)]
    return path_parameters


@pytest.fixture
def same_connection():
    """The WSGI handler closes the database connection when a request ends, which would
    end the test's transaction; Django's own test client keeps it the same way."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def write_token(db, same_connection):
    user = UserFactory(username="schema_walker")
    room = RoomFactory(name="Walked", slug=SLUG)
    MembershipFactory(room=room, user=user, role=Membership.Role.OWNER)
    MESSAGE_IDS[:] = [message_post(room=room, author=user, body=f"message {n}").pk for n in range(20)]
    return token_create(user=user, name="schemathesis", scope="write")[1]


@schema.parametrize()
@settings(
    max_examples=30,  # the seven operations in about 40 s
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
)
def test_every_operation_answers_as_its_schema_says(case, write_token):
    case.call_and_validate(headers={"Authorization": f"Bearer {write_token}"}, checks=CHECKS)
