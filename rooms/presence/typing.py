"""Who is typing: one "… is typing" line per typist, rendered once for the room
(the consumer keeps which lines a page shows, and CSS fades them)."""

import functools

from django.template.loader import render_to_string

from config.realtime import room_send


def typing_broadcast(*, room, user):
    """One "… is typing" line for the whole room, rendered once in both forms a
    consumer may need (see typing.html); the typist's own sockets skip it."""
    typing = functools.partial(render_to_string, "rooms/partials/typing.html")
    event = {
        "type": "room.typing",
        "user_id": user.pk,
        "append": typing({"typist": user, "append": True}),
        "replace": typing({"typist": user, "append": False}),
    }
    return room_send(room, event)
