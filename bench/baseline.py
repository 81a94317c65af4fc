"""The peer the fan-out benchmark compares against: the Channels tutorial's chat consumer.

No authentication, no database, no rendering: the raw text goes to the group
and back out, as in https://channels.readthedocs.io/en/stable/tutorial/.
It runs in the same server processes and on the same channel layer as the
room consumer, driven by the same clients, so the difference between the two
is the cost of what the app adds (auth, rules, saving, rendering, presence).

Routed at /ws/bench-baseline/<room>/ only when settings.BENCH_BASELINE is set
(bench/settings.py); never in normal runs.
"""

import json

from channels.generic.websocket import AsyncWebsocketConsumer


class BaselineConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        self.room_group_name = f"bench_baseline_{self.scope['url_route']['kwargs']['room']}"
        await self.channel_layer.group_add(self.room_group_name, self.channel_name)
        await self.accept()

    async def disconnect(self, close_code):
        await self.channel_layer.group_discard(self.room_group_name, self.channel_name)

    async def receive(self, text_data):
        message = json.loads(text_data)["body"]
        await self.channel_layer.group_send(
            self.room_group_name, {"type": "chat.message", "message": message}
        )

    async def chat_message(self, event):
        await self.send(text_data=json.dumps({"message": event["message"]}))
