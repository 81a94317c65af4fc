"""Answers "!ping" with "pong" in one room, live: python docs/example_bot.py URL ROOM TOKEN
(a write-scoped token from /accounts/tokens/; URL like http://127.0.0.1:8000)."""

import asyncio
import html
import json
import re
import sys

from websockets.asyncio.client import connect

# A new message arrives appended to the page's list; edits and counts replace one in place.
NEW_MESSAGE = re.compile(
    r'^<div hx-swap-oob="beforeend:#messages">.*?<article id="message-(\d+)"'
    r'.*?<div class="body">(.*?)</div>',
    re.DOTALL,
)


async def main(url, room, token):
    socket_url = re.sub(r"^http", "ws", url.rstrip("/")) + f"/ws/rooms/{room}/"
    async with connect(socket_url, additional_headers={"Authorization": f"Bearer {token}"}) as socket:
        async for frame in socket:
            if found := NEW_MESSAGE.match(frame):
                message_id, body = found.groups()
                if html.unescape(re.sub(r"<[^>]+>", "", body)).strip() == "!ping":
                    await socket.send(json.dumps({"body": "pong", "reply_to": int(message_id)}))


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
