"""Who has a room open now ("presence"), and who is typing.

Each open socket of a room's page holds an entry that expires unless its
process refreshes it (every third of CHAT_PRESENCE_TTL, all of a process's
due entries in one round trip). A server process killed without running its
disconnect handlers leaves entries that simply run out: readers never count an
expired entry, and the next update in the room removes it and tells the room. A
user is present while any of their sockets is, so closing one of two tabs
changes nothing.

One concern per module:
    stores.py    where the entries live (Redis, or this process's memory), and the
                 per-user socket claims (CHAT_MAX_SOCKETS_PER_USER) counted on them
    roster.py    who is here: the "Here now" roster sent to the room, the member pane
    sockets.py   one socket's part: enter, keep fresh, leave (and its typing throttle)
    typing.py    the "… is typing" line
"""
