"""`manage.py import_slack <export.zip>` (issue 17 point 5) on exports written here in
Slack's documented format: users.json, channels.json, one folder per channel named
after it with a JSON file per day, message objects with "seconds.micro" ts strings."""

import io
import json
import zipfile
from datetime import UTC, datetime

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import CommandError, call_command
from django.urls import reverse

from api import slack_import
from api.models import SlackImportRecord
from api.slack_text import emoji_for, slack_text
from attachments.models import Attachment
from messages_app.models import Message, Reaction
from messages_app.services import message_post
from notifications.models import Notification
from rooms.models import Membership, Room
from tests.factories import UserFactory
from tests.sockets import live, open_socket, receive_until

User = get_user_model()
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15"
    b"\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\xa5\xf6E@\x00\x00\x00"
    b"\x00IEND\xaeB`\x82"
)
T0 = 1_700_000_000  # 2023-11-14 22:13:20 UTC


def ts(seconds, micro=0):
    return f"{T0 + seconds}.{micro:06d}"


def at(seconds, micro=0):
    return datetime.fromtimestamp(T0 + seconds, tz=UTC).replace(microsecond=micro)


def slack_user(user_id, name, *, email=None, display_name="", real_name="", deleted=False, is_bot=False):
    profile = {"display_name": display_name, "real_name": real_name}
    if email:
        profile["email"] = email
    return {
        "id": user_id,
        "name": name,
        "real_name": real_name,
        "profile": profile,
        "deleted": deleted,
        "is_bot": is_bot,
    }


def message(seconds, user, text, **extra):
    return {"type": "message", "user": user, "text": text, "ts": ts(seconds), **extra}


def day_name(seconds):
    return datetime.fromtimestamp(T0 + seconds, tz=UTC).strftime("%Y-%m-%d")


USERS = [
    slack_user("U1", "alice", email="Alice@Example.com", display_name="Alice A."),
    slack_user("U2", "bob", email="bob@slack.example", display_name="Bobby", real_name="Bob Builder"),
    slack_user("U3", "carol", real_name="Carol C.", deleted=True),
    slack_user("U4", "here", email="here@slack.example"),  # a handle that is a room mention here
]
CHANNELS = [
    {
        "id": "C1",
        "name": "general",
        "created": T0 - 86400,
        "creator": "U2",
        "members": ["U1", "U2", "U3"],
        "topic": {"value": "Company-wide  chatter", "creator": "U2", "last_set": T0},
        "purpose": {"value": "Everyone", "creator": "U2", "last_set": T0},
        "is_archived": False,
    },
    {
        "id": "C2",
        "name": "old-stuff",
        "created": T0 - 3600,
        "creator": "U1",
        "members": ["U1"],
        "topic": {"value": ""},
        "purpose": {"value": ""},
        "is_archived": True,
    },
]
FILE_IN_ZIP = {"id": "F1", "name": "dot.png", "title": "A dot", "mimetype": "image/png"}
FILE_LINK = {
    "id": "F2",
    "name": "plan.pdf",
    "title": "Plan",
    "mimetype": "application/pdf",
    "url_private": "https://files.slack.com/files-pri/T1-F2/plan.pdf?t=xoxe-secret",
    "permalink": "https://example.slack.com/files/U1/F2/plan.pdf",
}


def general_days():
    """Two days of #general: a thread across midnight, reactions, files, markup, notices."""
    first = [
        {"type": "message", "subtype": "channel_join", "user": "U1", "text": "<@U1> has joined", "ts": ts(0)},
        message(
            10,
            "U1",
            "Hi <@U2>, see <https://example.com/a?b=1&amp;c=2|the doc> &amp; *this* &lt;tag&gt;",
            thread_ts=ts(10),
            reply_count=2,
            edited={"user": "U1", "ts": ts(15)},
            reactions=[
                {"name": "+1", "users": ["U2", "U3"], "count": 2},
                {"name": "wave::skin-tone-3", "users": ["U1"], "count": 1},
                {"name": "party-parrot", "users": ["U2"], "count": 1},
            ],
        ),
        message(20, "U2", "a reply in the thread", thread_ts=ts(10), parent_user_id="U1"),
        message(30, "U2", "", files=[FILE_IN_ZIP, FILE_LINK], subtype="file_share"),
        {
            "type": "message",
            "subtype": "bot_message",
            "bot_id": "B1",
            "username": "ci",
            "text": "build ok",
            "ts": ts(40),
        },
        message(50, "U9", "from someone users.json does not know"),
        message(60, "U1", " \u0000\u0007 "),  # nothing once control characters are dropped
    ]
    second = [
        message(86400, "U3", "a late reply, the next day", thread_ts=ts(10)),
        message(86400 + 5, "U1", "<!here> and <#C2|old-stuff>, mail <mailto:a@b.example|a@b.example>"),
    ]
    return {f"general/{day_name(10)}.json": first, f"general/{day_name(86400)}.json": second}


def write_export(path, *, users=USERS, channels=CHANNELS, days=None, files=None, raw=None):
    """A zip in Slack's export layout; `raw` {name: bytes} adds members as they are."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("users.json", json.dumps(users))
        archive.writestr("channels.json", json.dumps(channels))
        archive.writestr("integration_logs.json", "[]")
        for name, entries in (general_days() if days is None else days).items():
            archive.writestr(name, json.dumps(entries))
        for name, data in ({"files/F1/dot.png": PNG} if files is None else files).items():
            archive.writestr(name, data)
        for name, data in (raw or {}).items():
            archive.writestr(name, data)
    return str(path)


def run_import(path):
    out, err = io.StringIO(), io.StringIO()
    call_command("import_slack", path, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def counts():
    models = (
        User,
        Room,
        Membership,
        Message,
        Message.mentions.through,
        Reaction,
        Attachment,
        SlackImportRecord,
    )
    return {model.__name__: model.objects.count() for model in models}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def alice(db):
    """An account here with Alice's Slack email (another letter case)."""
    return UserFactory(username="alice_here", email="alice@example.com")


@pytest.fixture
def imported(alice, tmp_path):
    out, err = run_import(write_export(tmp_path / "export.zip"))
    return out, err


def room_messages(slug="general"):
    return list(Message.objects.filter(room__slug=slug).select_related("author", "reply_to").order_by("id"))


def test_people_are_matched_by_email_or_created_without_a_usable_password(imported, alice):
    bob, carol, here = (User.objects.get(email=e) for e in ("bob@slack.example", "", "here@slack.example"))
    assert User.objects.filter(username="alice").exists() is False  # Alice is the account she had
    assert (bob.username, bob.display_name, bob.is_active, bob.has_usable_password()) == (
        "bob",
        "Bobby",
        True,
        False,
    )
    assert (carol.username, carol.display_name, carol.is_active) == ("carol", "Carol C.", False)
    assert here.username == "here-2"  # @here is the room, never a person
    assert alice.has_usable_password()
    out, _ = imported
    assert "People: 1 matched by email, 3 created" in out


def test_a_created_person_claims_the_account_with_a_password_reset(imported, client):
    response = client.post(reverse("account_reset_password"), {"email": "bob@slack.example"})
    assert response.status_code == 302
    assert [message.to for message in mail.outbox] == [["bob@slack.example"]]


def test_channels_become_public_rooms_with_their_members_topic_and_creator(imported, alice):
    general, old = Room.objects.get(slug="general"), Room.objects.get(slug="old-stuff")
    bob, carol = User.objects.get(username="bob"), User.objects.get(username="carol")
    assert (general.name, general.is_private, general.kind, general.topic) == (
        "general",
        False,
        Room.Kind.PUBLIC,
        "Company-wide chatter",
    )
    assert general.created_at == at(-86400)
    roles = dict(Membership.objects.filter(room=general).values_list("user__username", "role"))
    assert roles == {"bob": "owner", "alice_here": "member", "carol": "member"}
    assert old.is_archived and list(old.memberships.values_list("user", flat=True)) == [alice.pk]
    assert (general.created_by, carol.pk) == (bob, Membership.objects.get(room=general, user=carol).user_id)


def test_messages_keep_their_author_time_and_text_made_ours(imported, alice):
    messages = room_messages()
    bob = User.objects.get(username="bob")
    first = messages[0]
    assert (first.author, first.created_at, first.edited_at) == (alice, at(10), at(15))
    assert messages[1].edited_at is None
    assert first.body == "Hi @bob, see https://example.com/a?b=1&c=2 & **this** <tag>"
    assert f'data-user="{bob.pk}">@bob</span>' in first.body_html  # a mention of a member
    assert "&lt;tag&gt;" in first.body_html and "<strong>this</strong>" in first.body_html
    assert list(first.mentions.all()) == [bob]
    last = messages[-1]
    assert last.body == "@here and #old-stuff, mail a@b.example"
    assert [m.created_at for m in messages] == sorted(m.created_at for m in messages)
    # The join notice, the bot's message and the stranger's are not people's messages here.
    assert len(messages) == 5
    out, _ = imported
    for skipped in (
        "Skipped: 1 channel notice (join, leave, topic...)",
        "Skipped: 1 bot message without a user",
        "Skipped: 1 unknown author",
        "Skipped: 1 empty message",
    ):
        assert skipped in out


def test_thread_replies_answer_the_first_message_of_their_thread(imported):
    first, reply, _files, late, _last = room_messages()
    assert (reply.reply_to, late.reply_to) == (first, first)
    assert first.reply_count == 2 and reply.reply_count == 0
    out, _ = imported
    assert "Messages: 5 new (2 of them replies), 0 imported before" in out


def test_threads_hold_across_batches(alice, tmp_path, monkeypatch):
    """A thread start saved in an earlier batch than its replies (BATCH bounds memory)."""
    monkeypatch.setattr(slack_import, "BATCH", 1)
    run_import(write_export(tmp_path / "export.zip"))
    first, reply, _files, late, _last = room_messages()
    assert (reply.reply_to, late.reply_to, first.reply_count) == (first, first, 2)


def test_reactions_become_unicode_emoji_and_unknown_names_are_counted(imported, alice):
    first = room_messages()[0]
    bob, carol = User.objects.get(username="bob"), User.objects.get(username="carol")
    rows = set(Reaction.objects.filter(message=first).values_list("emoji", "user"))
    assert rows == {("👍", bob.pk), ("👍", carol.pk), ("👋🏼", alice.pk)}
    assert Reaction.objects.count() == 3
    out, _ = imported
    assert "Reactions: 3" in out and "Skipped: 1 reaction with an unknown emoji name" in out


def test_reactions_keep_the_rooms_limit_of_distinct_emoji(alice, tmp_path):
    names = ["+1", "tada", "heart", "joy", "eyes", "fire", "pray", "clap", "rocket", "wave", "100", "smile"]
    names += ["sob", "muscle", "bulb", "memo", "coffee", "beers", "grin", "wink", "blush", "cry"]
    reactions = [{"name": name, "users": ["U2"], "count": 1} for name in names]
    days = {f"general/{day_name(0)}.json": [message(0, "U1", "react away", reactions=reactions)]}
    out, _ = run_import(write_export(tmp_path / "export.zip", days=days, files={}))
    assert Reaction.objects.count() == 20
    assert "Skipped: 2 reaction refused (a duplicate, or past the distinct emoji limit)" in out


def test_a_file_in_the_export_is_attached_and_one_only_linked_is_a_line_of_text(imported):
    files_message = room_messages()[2]
    attachment = Attachment.objects.get()
    assert (attachment.message, attachment.name, attachment.content_type) == (
        files_message,
        "dot.png",
        "image/png",
    )
    assert attachment.file.read() == PNG
    assert attachment.created_at == files_message.created_at  # history, not a recent upload
    # Slack's link, without the token its export appends.
    assert files_message.body == "📎 plan.pdf https://example.slack.com/files/U1/F2/plan.pdf"
    assert "dot.png" in files_message.parts_text
    out, _ = imported
    assert "Files: 1 attached, 1 linked in the text (not in the export)" in out


def test_a_file_over_the_attachment_limit_is_linked_instead(alice, tmp_path, settings):
    settings.ATTACHMENT_MAX_BYTES = len(PNG) - 1
    out, _ = run_import(write_export(tmp_path / "export.zip"))
    assert not Attachment.objects.exists()
    assert room_messages()[2].body.startswith("📎 dot.png\n📎 plan.pdf https://")
    assert "Skipped: 1 file empty, too large or one too many (linked instead)" in out


def test_a_second_run_changes_nothing_and_says_so(imported, tmp_path):
    before = counts()
    out, _ = run_import(str(tmp_path / "export.zip"))
    assert counts() == before
    assert before["Message"] == 5 and before["SlackImportRecord"] == 4 + 2 + 5
    assert "People: 0 matched by email, 0 created" in out
    assert "Rooms: 0 created, 0 memberships added" in out
    assert "Messages: 0 new (0 of them replies), 5 imported before" in out
    assert out.rstrip().endswith("0 new: everything was imported before")


def test_a_later_export_adds_only_what_is_new_and_threads_continue(imported, tmp_path):
    days = general_days()
    days[f"general/{day_name(2 * 86400)}.json"] = [message(2 * 86400, "U2", "much later", thread_ts=ts(10))]
    out, _ = run_import(write_export(tmp_path / "later.zip", days=days))
    first, *_, later = room_messages()
    assert (later.body, later.reply_to, later.created_at) == ("much later", first, at(2 * 86400))
    first.refresh_from_db()
    assert first.reply_count == 3
    assert "Messages: 1 new (1 of them replies), 5 imported before" in out


def test_history_pages_show_the_imported_messages_in_order_with_their_times(imported, client, alice):
    client.force_login(alice)
    room = Room.objects.get(slug="general")
    messages = room_messages()
    page = client.get(room.get_absolute_url()).content.decode()
    positions = [page.index(f'id="message-{m.pk}"') for m in messages]
    assert positions == sorted(positions)
    for m in messages:
        assert f'datetime="{m.created_at.isoformat()}"' in page
    older = client.get(reverse("room_messages", args=[room.slug]), {"before": messages[-1].pk})
    html = older.content.decode()
    assert [html.index(f'id="message-{m.pk}"') for m in messages[:-1]] == sorted(
        html.index(f'id="message-{m.pk}"') for m in messages[:-1]
    )
    assert "👋🏼" in page  # the reactions show with the history
    thread = client.get(reverse("message_thread", args=[room.slug, messages[0].pk])).content.decode()
    assert thread.index("a reply in the thread") < thread.index("a late reply, the next day")


def test_history_arrives_read_and_notifies_nobody(imported, alice):
    newest = Message.objects.filter(room__slug="general").order_by("-id").first()
    reads = set(
        Membership.objects.filter(room__slug="general").values_list("last_read_message_id", flat=True)
    )
    assert reads == {newest.pk}
    assert Notification.objects.count() == 0 and mail.outbox == []


def test_rate_limits_do_not_stop_an_import(alice, tmp_path, settings):
    settings.CHAT_RATE_LIMIT = "1/60"
    settings.ATTACHMENT_RATE = (1, 600)
    entries = [
        message(i, "U2", f"message {i}", files=[{"id": f"F{i}", "name": f"{i}.png"}]) for i in range(5)
    ]
    files = {f"files/F{i}/{i}.png": PNG for i in range(5)}
    run_import(
        write_export(tmp_path / "busy.zip", days={f"general/{day_name(0)}.json": entries}, files=files)
    )
    assert Message.objects.filter(author__username="bob").count() == 5
    assert Attachment.objects.count() == 5


def test_a_large_export_takes_few_queries(alice, tmp_path, django_assert_max_num_queries):
    """Bulk inserts: about 2 queries a day file and 10 a batch of 2,000, not a few per message."""
    days = {
        f"general/{day_name(day * 86400)}.json": [
            message(day * 86400 + i, "U1" if i % 2 else "U2", f"day {day} message {i} for <@U1>")
            for i in range(1000)
        ]
        for day in range(3)
    }
    start, reply = days[f"general/{day_name(0)}.json"][:2]
    start["thread_ts"] = reply["thread_ts"] = start["ts"]
    path = write_export(tmp_path / "large.zip", days=days, files={})
    with django_assert_max_num_queries(80):
        out, _ = run_import(path)
    assert Message.objects.count() == 3000 and "Messages: 3000 new (1 of them replies)" in out


def test_the_progress_bar_goes_to_stderr(imported):
    _, err = imported
    assert "Importing days [" in err and err.rstrip().endswith("2/2")


@live
async def test_an_import_sends_nothing_to_the_open_pages_of_a_room(tmp_path, alice):
    """A member's open page of an imported room hears nothing of a later import there."""
    await sync_to_async(run_import)(write_export(tmp_path / "export.zip"))
    socket = await open_socket("general", alice)
    await frames_within(socket, 0.5)  # what a page gets on connecting (presence)
    days = general_days()
    days[f"general/{day_name(2 * 86400)}.json"] = [message(2 * 86400, "U2", "imported while open")]
    await sync_to_async(run_import)(write_export(tmp_path / "later.zip", days=days))
    assert await sync_to_async(Message.objects.filter(body="imported while open").exists)()
    assert await frames_within(socket, 1) == []
    # The socket was listening: a live message reaches it.
    room = await sync_to_async(Room.objects.get)(slug="general")
    await sync_to_async(message_post)(room=room, author=alice, body="live one")
    await receive_until(socket, "live one")
    await socket.disconnect()


async def frames_within(socket, seconds):
    """Every frame the socket receives until it has been quiet for `seconds`."""
    frames = []
    while not await socket.receive_nothing(timeout=seconds):
        frames.append(await socket.receive_from())
    return frames


# --- bad input: a clear CommandError, and nothing changed ----------------------------------


def _bad_exports(tmp_path):
    huge = [message(i, "U1", "x" * 100) for i in range(50)]
    return {
        "not a zip": (tmp_path / "a.zip", b"this is not a zip file", "is not a zip file"),
        "no users.json": ("zip", {"channels.json": b"[]"}, "users.json is missing"),
        "malformed users.json": (
            "zip",
            {"users.json": b"[{", "channels.json": b"[]"},
            "users.json is not valid JSON",
        ),
        "malformed day file": (
            "export",
            {f"general/{day_name(86400 * 5)}.json": b"[{]"},
            "is not valid JSON",
        ),
        "a day that is not messages": (
            "export",
            {f"general/{day_name(86400 * 5)}.json": b'[{"text": 1}]'},
            "no valid ts",
        ),
        "a bad thread_ts": (
            "export",
            {f"general/{day_name(86400 * 5)}.json": b'[{"ts": "1.2", "thread_ts": [1]}]'},
            "thread_ts",
        ),
        "path traversal": ("export", {"../evil.json": b"[]"}, "unsafe file name"),
        "absolute path": ("export", {"/etc/passwd": b"x"}, "unsafe file name"),
        "huge day file": (
            "export",
            {f"general/{day_name(86400 * 5)}.json": json.dumps(huge).encode()},
            "too large",
        ),
    }


@pytest.mark.parametrize(
    "case",
    [
        "not a zip",
        "no users.json",
        "malformed users.json",
        "malformed day file",
        "a day that is not messages",
        "a bad thread_ts",
        "path traversal",
        "absolute path",
        "huge day file",
    ],
)
def test_bad_exports_are_refused_and_change_nothing(case, alice, tmp_path, settings):
    settings.SLACK_IMPORT_MAX_JSON_BYTES = 4000
    kind, content, expected = _bad_exports(tmp_path)[case]
    path = tmp_path / "bad.zip"
    if kind == "zip":
        with zipfile.ZipFile(path, "w") as archive:
            for name, data in content.items():
                archive.writestr(name, data)
    elif kind == "export":
        write_export(path, raw=content)
    else:
        kind.write_bytes(content)
        path = kind
    before = counts()
    with pytest.raises(CommandError, match=expected) as refused:
        run_import(str(path))
    assert str(refused.value).startswith("Nothing was imported: ")
    assert counts() == before


def test_a_zip_whose_bytes_do_not_match_their_checksum_is_refused(alice, tmp_path):
    path = tmp_path / "broken.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("users.json", json.dumps(USERS))
        archive.writestr("channels.json", json.dumps(CHANNELS))
        archive.writestr(f"general/{day_name(0)}.json", json.dumps([message(0, "U1", "intact text")]))
    data = path.read_bytes()
    path.write_bytes(data.replace(b"intact text", b"broken text"))
    before = counts()
    with pytest.raises(CommandError, match="cannot be read from the zip"):
        run_import(str(path))
    assert counts() == before


def test_odd_shapes_where_lists_belong_are_ignored(alice, tmp_path):
    channels = [{**CHANNELS[0], "members": {"U1": True}, "topic": "not an object"}]
    odd = message(0, "U1", "still imported", files=5, reactions="+1")
    odd_reactions = message(1, "U1", "and this", reactions=[{"name": "+1", "users": "U2"}, "tada"])
    days = {f"general/{day_name(0)}.json": [odd, odd_reactions]}
    run_import(write_export(tmp_path / "export.zip", channels=channels, days=days, files={}))
    assert [m.body for m in room_messages()] == ["still imported", "and this"]
    assert not Reaction.objects.exists()
    assert Room.objects.get(slug="general").topic == "Everyone"  # the purpose, as the topic is no object


def test_a_missing_file_is_refused(db, tmp_path):
    with pytest.raises(CommandError, match="is not a zip file"):
        run_import(str(tmp_path / "nowhere.zip"))


def test_an_export_too_large_in_total_is_refused(alice, tmp_path, settings):
    settings.SLACK_IMPORT_MAX_TOTAL_BYTES = 500
    with pytest.raises(CommandError, match="unpacks to"):
        run_import(write_export(tmp_path / "export.zip"))
    assert not Room.objects.exists()


# --- the markup and the emoji names --------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<@U1> and <@U7|ghost>", "@alice and @ghost"),
        ("<https://example.com>", "https://example.com"),
        ("<https://example.com/x|label>", "https://example.com/x"),
        ("<#C1|general> <#C1>", "#general #general"),
        (
            "<!channel> <!everyone> <!subteam^S1|@devs> <!date^1392734382^{date}|Feb 18>",
            "@channel @everyone @devs Feb 18",
        ),
        ("&amp;lt; stays escaped once: &lt;b&gt;", "&lt; stays escaped once: <b>"),
        ("*bold* and 2*3*4 and * not *", "**bold** and 2*3*4 and * not *"),
    ],
)
def test_slack_markup_becomes_our_text(text, expected):
    assert slack_text(text, usernames={"U1": "alice"}, channel_names={"C1": "general"}) == expected


@pytest.mark.parametrize(
    ("name", "emoji"),
    [
        ("+1", "👍"),
        ("thumbsup", "👍"),
        ("tada", "🎉"),
        ("heart", "❤️"),
        ("raised_hands::skin-tone-6", "🙌🏿"),
        ("man-shrugging", "🤷‍♂️"),
        ("simple_smile", "🙂"),
        ("party-parrot", None),
    ],
)
def test_slack_emoji_names_become_unicode(name, emoji):
    assert emoji_for(name) == emoji
