from django.conf import settings
from django.urls import path

from messages_app.ban_watch import BanWatchConsumer
from messages_app.consumers import RoomConsumer
from messages_app.user_consumers import HomeConsumer, PeopleConsumer, UserConsumer

websocket_urlpatterns = [
    path("ws/rooms/<slug:slug>/ban/", BanWatchConsumer.as_asgi()),
    path("ws/rooms/<slug:slug>/", RoomConsumer.as_asgi()),
    # Pages without a room socket of their own: the home page, a room only read, people.
    path("ws/home/", HomeConsumer.as_asgi()),
    path("ws/user/", UserConsumer.as_asgi()),
    path("ws/people/", PeopleConsumer.as_asgi()),  # the people pages: online, nothing shown
]

# The benchmark's tutorial-style peer (bench/baseline.py): served only by the bench's
# own settings (bench/settings.py sets BENCH_BASELINE), never in normal runs.
if getattr(settings, "BENCH_BASELINE", False):
    from bench.baseline import BaselineConsumer

    websocket_urlpatterns.append(path("ws/bench-baseline/<slug:room>/", BaselineConsumer.as_asgi()))
