"""Importing a Slack export (issue 17 point 5; `manage.py import_slack <export.zip>`).

- People: a Slack member whose email an account here has becomes that account;
  anyone else gets an account with their display name and no usable password (they
  can claim it with a password reset to that email); a deleted Slack member's account
  is inactive.
- Channels (channels.json: the public ones) become public rooms, slug from the name,
  owned by the channel's creator, with its members; an archived channel is archived.
- Messages keep their author and time, their markup made ours (slack_text.py); a
  thread's replies answer its first message (reply_to); reactions are unicode emoji
  (unknown names, a workspace's custom emoji, are skipped and counted). A file whose
  bytes are in the export becomes an attachment; Slack's own exports hold only
  links, so such a file becomes a line of the message: its name and Slack link.
- History is not live traffic: messages_app.services.message_import saves it without
  socket frames, notifications or rate limits, and the imported rooms' members have
  it marked read (no badge for years of history).

Idempotent: each Slack id imported is recorded (SlackImportRecord), and a second run
skips what is recorded, so it creates nothing. The whole import is one transaction:
an export refused half way (a malformed day file) leaves the database as it was.
"""

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Max, Q
from django.db.models.functions import Lower
from django.utils import timezone

from api.models import SlackImportRecord
from api.slack_export import ExportRefused, export_open, ts_key
from api.slack_text import emoji_for, slack_text
from messages_app.models import Message, Reaction
from messages_app.services import MessageRejected, message_import, reaction_import
from messages_app.text import ROOM_MENTIONS, without_control_characters
from rooms.models import Membership, Room
from rooms.services import RoomError, room_create

logger = logging.getLogger(__name__)

Kind = SlackImportRecord.Kind
BATCH = 2000  # messages saved per message_import call: bounds memory, not correctness
# Slack's notices about the channel, not things people said.
NOTICE_SUBTYPES = {
    "channel_join",
    "channel_leave",
    "channel_topic",
    "channel_purpose",
    "channel_name",
    "channel_archive",
    "channel_unarchive",
    "group_join",
    "group_leave",
    "pinned_item",
    "unpinned_item",
    "tombstone",
    "reminder_add",
}
USERNAME_MAX = 30


class ImportRefused(Exception):
    """The export cannot be imported; nothing was changed. The text says why."""


@dataclass
class Summary:
    users_matched: int = 0
    users_created: int = 0
    rooms: int = 0
    members: int = 0
    messages: int = 0
    replies: int = 0
    reactions: int = 0
    files: int = 0
    file_links: int = 0
    already_imported: int = 0
    skipped: Counter = field(default_factory=Counter)

    @property
    def new(self):
        """What this run added (people matched included): 0 on a second run."""
        counts = (self.users_matched, self.users_created, self.rooms, self.members, self.messages)
        return sum(counts) + self.reactions + self.files

    def skip(self, reason, count=1):
        if count:
            self.skipped[reason] += count


def slack_import(*, path, progress=None):
    """Import the export at `path`; returns its Summary. `progress(done, total)` is
    called as the day files are imported. ImportRefused (nothing changed) for an
    export that cannot be read or imported."""
    try:
        export = export_open(path)
    except ExportRefused as refusal:
        raise ImportRefused(str(refusal)) from None
    try:
        with export.archive, transaction.atomic():
            return _import(export, progress=progress or (lambda done, total: None))
    except (ExportRefused, MessageRejected, RoomError) as refusal:
        raise ImportRefused(str(refusal)) from None


def _import(export, *, progress):
    summary = Summary()
    users = users_import(export.users, summary=summary)
    usernames = {slack_id: user.username for slack_id, user in users.items()}
    channel_names = {channel["id"]: str(channel.get("name", "")) for channel in export.channels}
    done, total = 0, export.day_count
    progress(done, total)
    for channel in export.channels:
        days = export.days.get(str(channel.get("name", "")), [])
        room = channel_import(channel, users=users, summary=summary)
        if room is None:
            summary.skip("channel without a known creator or member (its days not read)")
        else:
            importer = ChannelImporter(
                export,
                channel=channel,
                room=room,
                users=users,
                summary=summary,
                text_of=lambda text: slack_text(text, usernames=usernames, channel_names=channel_names),
            )
            importer.history_import(days, tick=lambda count, before=done: progress(before + count, total))
        done += len(days)
        progress(done, total)
    logger.info("slack import done new=%d skipped=%d", summary.new, sum(summary.skipped.values()))
    return summary


# --- records -----------------------------------------------------------------------------


def records_known(kind, slack_ids):
    """{slack id: object id} of those already imported."""
    rows = SlackImportRecord.objects.filter(kind=kind, slack_id__in=list(slack_ids))
    return dict(rows.values_list("slack_id", "object_id"))


def records_add(kind, pairs):
    SlackImportRecord.objects.bulk_create(
        SlackImportRecord(kind=kind, slack_id=slack_id, object_id=object_id) for slack_id, object_id in pairs
    )


# --- people ------------------------------------------------------------------------------


def users_import(entries, *, summary):
    """{Slack user id: User} for every member of users.json: recorded ones found again,
    the others matched by email or created."""
    User = get_user_model()
    known = records_known(Kind.USER, (entry["id"] for entry in entries))
    found = User.objects.in_bulk(known.values())
    users = {slack_id: found[pk] for slack_id, pk in known.items() if pk in found}
    fresh = [entry for entry in entries if entry["id"] not in users]
    by_email = _users_by_email(_email(entry) for entry in fresh)
    created, chosen = [], set()
    for entry in fresh:
        user = by_email.get(_email(entry))
        if user is None:
            user = _user_new(entry, chosen=chosen)
            created.append(user)
        else:
            summary.users_matched += 1
        users[entry["id"]] = user
    User.objects.bulk_create(created)
    summary.users_created += len(created)
    records_add(Kind.USER, ((entry["id"], users[entry["id"]].pk) for entry in fresh))
    return users


def _email(entry):
    profile = entry.get("profile") if isinstance(entry.get("profile"), dict) else {}
    return str(profile.get("email") or "").strip().lower()


def _users_by_email(emails):
    emails = {email for email in emails if email}
    if not emails:
        return {}
    people = get_user_model().objects.annotate(lower_email=Lower("email")).filter(lower_email__in=emails)
    return {person.lower_email: person for person in people.order_by("id")}


def _user_new(entry, *, chosen):
    """An account for a Slack member nobody here is: their name shown, no usable
    password (a reset to the email claims it), inactive if Slack had deleted them."""
    profile = entry.get("profile") if isinstance(entry.get("profile"), dict) else {}
    shown = profile.get("display_name") or profile.get("real_name") or entry.get("real_name") or ""
    user = get_user_model()(
        username=_username_free(entry.get("name") or shown or entry["id"], chosen=chosen),
        email=_email(entry),
        display_name=str(shown).strip()[:50],
        is_active=not entry.get("deleted"),
    )
    user.set_unusable_password()
    return user


def _username_free(name, *, chosen):
    """A username from Slack's handle: the characters usernames allow, not a room
    mention, not taken (letter case aside) nor `chosen` in this run: "alice", else
    "alice-2", "alice-3"..."""
    base = "".join(ch for ch in str(name) if ch.isalnum() or ch in "._-")[:USERNAME_MAX].strip("._-")
    base = base or "slack-user"
    names = get_user_model().objects.filter(username__istartswith=base).values_list("username", flat=True)
    taken = {name.lower() for name in names} | chosen | ROOM_MENTIONS
    candidate, suffix = base, 2
    while candidate.lower() in taken:
        candidate = f"{base}-{suffix}"
        suffix += 1
    chosen.add(candidate.lower())
    return candidate


# --- rooms -------------------------------------------------------------------------------


def channel_import(channel, *, users, summary):
    """The room of a channel (created the first time), with every member of the
    channel that users.json knows; None if the channel has nobody to own it."""
    known = records_known(Kind.CHANNEL, [channel["id"]])
    room = Room.objects.filter(pk=known.get(channel["id"])).first() if known else None
    members = [users[slack_id] for slack_id in _strings(channel.get("members")) if slack_id in users]
    if room is None:
        owner = users.get(str(channel.get("creator"))) or (members[0] if members else None)
        if owner is None:
            return None
        room = _room_new(channel, owner=owner)
        summary.rooms += 1
        records_add(Kind.CHANNEL, [(channel["id"], room.pk)])
    summary.members += members_add(room=room, users=members)
    return room


def _room_new(channel, *, owner):
    topic = channel.get("topic") if isinstance(channel.get("topic"), dict) else {}
    purpose = channel.get("purpose") if isinstance(channel.get("purpose"), dict) else {}
    description = str(topic.get("value") or purpose.get("value") or "")
    name = str(channel.get("name") or channel["id"])[:80]
    room = room_create(name=name, created_by=owner, topic=" ".join(description.split())[:200])
    changes = {"created_at": _time(channel.get("created"))}
    if channel.get("is_archived"):
        changes["archived_at"] = timezone.now()
    Room.objects.filter(pk=room.pk).update(**changes)
    return room


def members_add(*, room, users):
    """Memberships for those of `users` not in the room yet; how many were added."""
    present = set(Membership.objects.filter(room=room).values_list("user_id", flat=True))
    new = {user.pk for user in users} - present
    Membership.objects.bulk_create(Membership(room=room, user_id=user_id) for user_id in sorted(new))
    return len(new)


def room_history_read(*, room):
    """The imported history arrives read for the room's members: no unread badge or
    mention count for messages years old."""
    newest = Message.objects.filter(room=room).aggregate(newest=Max("id"))["newest"]
    if newest is not None:
        unread = Q(last_read_message_id__isnull=True) | Q(last_read_message_id__lt=newest)
        Membership.objects.filter(unread, room=room).update(last_read_message_id=newest)


def _list(value):
    """A list the export should hold there, or none (what else is there is ignored)."""
    return value if isinstance(value, list) else []


def _strings(value):
    return [item for item in _list(value) if isinstance(item, str)]


def _time(seconds):
    """A Slack time (epoch seconds, or "seconds.micro") as an aware datetime."""
    try:
        whole, micro = ts_key(seconds)
    except (TypeError, ValueError):
        return timezone.now()
    return datetime.fromtimestamp(whole, tz=UTC).replace(microsecond=micro)


# --- messages ----------------------------------------------------------------------------


class ChannelImporter:
    """One channel's messages, read day by day and saved in batches, oldest first, so
    that ids follow Slack's times and a reply comes after its thread's start."""

    def __init__(self, export, *, channel, room, users, summary, text_of):
        self.export, self.channel, self.room, self.users, self.summary = export, channel, room, users, summary
        self.text_of = text_of  # Slack's text -> ours (slack_text with this export's names)
        self.pending = []  # (Slack message, unsaved Message, [uploads])
        self.threads = {}  # ts of a thread's first message -> its Message (saved or pending)
        self.saved = 0

    def key(self, ts):
        return f"{self.channel['id']}/{ts}"

    def history_import(self, days, *, tick):
        """Every day file of the channel, oldest first; `tick(days done)` after each."""
        for number, name in enumerate(days, start=1):
            self.day_import(name)
            tick(number)
        self.flush()
        if self.saved:
            room_history_read(room=self.room)

    def day_import(self, name):
        entries = self.export.day_messages(name)
        known = records_known(Kind.MESSAGE, (self.key(entry["ts"]) for entry in entries))
        self._threads_known(entries)
        for entry in entries:
            if self.key(entry["ts"]) in known:
                self.summary.already_imported += 1
                continue
            reason = self._skip_reason(entry)
            if reason:
                self.summary.skip(reason)
                continue
            self._add(entry)
        if len(self.pending) >= BATCH:
            self.flush()

    def _threads_known(self, entries):
        """Thread starts imported before (an earlier run, an earlier batch) that the
        replies of this day answer."""
        replies = [entry for entry in entries if entry.get("thread_ts") not in (None, entry["ts"])]
        starts = {entry["thread_ts"] for entry in replies}
        wanted = {ts for ts in starts if ts not in self.threads}
        if not wanted:
            return
        ids = records_known(Kind.MESSAGE, (self.key(ts) for ts in wanted))
        saved = Message.objects.filter(room=self.room).in_bulk(ids.values())
        for ts in wanted:
            original = saved.get(ids.get(self.key(ts)))
            if original is not None:
                self.threads[ts] = original

    def _skip_reason(self, entry):
        if entry.get("type", "message") != "message":
            return "not a message"
        if entry.get("subtype") in NOTICE_SUBTYPES:
            return "channel notice (join, leave, topic...)"
        if not isinstance(entry.get("user"), str) or entry["user"] not in self.users:
            return "bot message without a user" if entry.get("subtype") == "bot_message" else "unknown author"
        return None

    def _add(self, entry):
        text = without_control_characters(self.text_of(entry.get("text", "")))
        body, uploads = self._files(entry, text)
        limit = settings.CHAT_MESSAGE_MAX_LENGTH
        if len(body) > limit:
            body = body[: limit - 1] + "…"
            self.summary.skip("text cut to the length limit (message kept)")
        if not body.strip() and not uploads:
            self.summary.skip("empty message")
            return
        message = Message(author=self.users[entry["user"]], body=body, created_at=_time(entry["ts"]))
        edited = entry.get("edited")
        if isinstance(edited, dict) and edited.get("ts"):
            message.edited_at = _time(edited["ts"])
        thread_ts = entry.get("thread_ts")
        if thread_ts and thread_ts != entry["ts"]:
            message.reply_to = self.threads.get(thread_ts)
            if message.reply_to is None:
                self.summary.skip("reply whose thread start is missing (kept as a message)")
        elif thread_ts == entry["ts"]:
            self.threads[entry["ts"]] = message
        self.pending.append((entry, message, uploads))

    def _files(self, entry, body):
        """(body, uploads): the files whose bytes the export has become uploads (as
        many as a message may carry), the others a line each: name and Slack link."""
        uploads, lines = [], []
        for item in _list(entry.get("files")):
            if not isinstance(item, dict) or item.get("mode") in {"tombstone", "hidden_by_limit"}:
                self.summary.skip("file deleted or hidden in Slack")
                continue
            name = str(item.get("name") or item.get("title") or "file")
            size = self.export.file_size(str(item.get("id", "")))
            usable = size is not None and 0 < size <= settings.ATTACHMENT_MAX_BYTES
            if usable and len(uploads) < settings.ATTACHMENT_MAX_FILES:
                copy = self.export.file_copy(str(item["id"]))
                uploads.append(UploadedFile(copy, name=name, size=size))
                continue
            if size is not None:
                self.summary.skip("file empty, too large or one too many (linked instead)")
            link = item.get("permalink") or str(item.get("url_private") or "").split("?")[0]
            lines.append(f"📎 {name} {link}".strip())
        self.summary.file_links += len(lines)
        return "\n".join([body, *lines]).strip(), uploads

    def flush(self):
        """Save the pending messages, their reactions and their records."""
        if not self.pending:
            return
        entries, messages, uploads = zip(*self.pending, strict=True)
        self.pending = []
        files = {position: items for position, items in enumerate(uploads) if items}
        created = message_import(room=self.room, messages=list(messages), files=files)
        self.saved += len(created)
        self.summary.messages += len(created)
        self.summary.replies += sum(1 for message in created if message.reply_to_id)
        self.summary.files += sum(len(items) for items in files.values())
        records_add(Kind.MESSAGE, ((self.key(e["ts"]), m.pk) for e, m in zip(entries, created, strict=True)))
        self._reactions(entries, created)

    def _reactions(self, entries, created):
        reactions = []
        for entry, message in zip(entries, created, strict=True):
            for reaction in _list(entry.get("reactions")):
                reactions.extend(self._reaction_rows(reaction, message))
        saved, refused = reaction_import(reactions=reactions)
        self.summary.reactions += saved
        self.summary.skip("reaction refused (a duplicate, or past the distinct emoji limit)", refused)

    def _reaction_rows(self, reaction, message):
        if not isinstance(reaction, dict):
            return []
        named = _strings(reaction.get("users"))
        people = [slack_id for slack_id in named if slack_id in self.users]
        self.summary.skip("reaction by an unknown person", len(named) - len(people))
        emoji = emoji_for(reaction.get("name"))
        if emoji is None:
            self.summary.skip("reaction with an unknown emoji name", len(people))
            return []
        user_ids = {self.users[slack_id].pk for slack_id in people}
        return [
            Reaction(message=message, user_id=user_id, emoji=emoji, created_at=message.created_at)
            for user_id in sorted(user_ids)
        ]
