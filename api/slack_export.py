"""Reading a Slack export (the zip an admin downloads from Slack's "Export data" page):
users.json, channels.json, and a folder per channel, named after the channel, holding
one JSON file per day (YYYY-MM-DD.json) of message objects. Slack does not put the
shared files' bytes in its exports, only links; exports made by other tools may carry
them: under `files/<file id>/<name>`, or `<channel>/attachments/<file id>-<name>`
(slackdump's standard layout). Those are used when present.

Nothing here writes: every check that can refuse an export (not a zip, a name that
climbs out of its folder, a file too large, JSON that is not what Slack writes) runs
before or while reading, and raises ExportRefused with a sentence for the admin.
"""

import json
import re
import tempfile
import zipfile
import zlib
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from django.conf import settings

DAY_FILE = re.compile(r"^(?P<folder>[^/]+)/(?P<day>\d{4}-\d{2}-\d{2})\.json$")
FILE_PATHS = (
    re.compile(r"^files/(?P<id>[A-Za-z0-9]+)/[^/]+$"),
    re.compile(r"^[^/]+/attachments/(?P<id>[A-Za-z0-9]+)-[^/]+$"),
)
TS = re.compile(r"^\d{1,12}\.\d{1,6}$")
SPOOL_BYTES = 1024 * 1024  # a file's bytes stay in memory up to this, then go to disk


class ExportRefused(Exception):
    """The file is not a Slack export this import can read safely; the text says why."""


def json_limit():
    """Bytes one JSON file of the export may hold (a day of one channel, users.json)."""
    return getattr(settings, "SLACK_IMPORT_MAX_JSON_BYTES", 256 * 1024 * 1024)


def total_limit():
    """Bytes the whole export may unpack to: a zip bomb stops here."""
    return getattr(settings, "SLACK_IMPORT_MAX_TOTAL_BYTES", 50 * 1024**3)


@dataclass
class Export:
    """An open export: its users and channels read, its day files and files indexed."""

    archive: zipfile.ZipFile
    users: list
    channels: list
    days: dict = field(default_factory=dict)  # folder -> [member names], oldest first
    files: dict = field(default_factory=dict)  # Slack file id -> member name

    @property
    def day_count(self):
        return sum(len(names) for names in self.days.values())

    def day_messages(self, name):
        """The message objects of one day file, oldest first."""
        entries = self.read_json(name, expect=list)
        for entry in entries:
            if not isinstance(entry, dict) or not TS.match(str(entry.get("ts", ""))):
                raise ExportRefused(f"{name} holds something that is not a Slack message (no valid ts).")
            if "thread_ts" in entry and not TS.match(str(entry["thread_ts"])):
                raise ExportRefused(f"{name} holds a message whose thread_ts is not a Slack time.")
        return sorted(entries, key=lambda entry: ts_key(entry["ts"]))

    def read_json(self, name, *, expect):
        info = self.archive.getinfo(name)
        limit = json_limit()
        if info.file_size > limit:
            raise ExportRefused(f"{name} is too large ({info.file_size:,} bytes; at most {limit:,}).")
        with _unreadable_refused(name), self.archive.open(info) as stream:
            data = stream.read(limit + 1)  # the header's size may lie
        if len(data) > limit:
            raise ExportRefused(f"{name} is too large (more than {limit:,} bytes).")
        try:
            value = json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ExportRefused(f"{name} is not valid JSON: {error}.") from None
        if not isinstance(value, expect):
            raise ExportRefused(f"{name} should hold a JSON {expect.__name__}.")
        return value

    def file_size(self, file_id):
        name = self.files.get(file_id)
        return None if name is None else self.archive.getinfo(name).file_size

    def file_copy(self, file_id):
        """The bytes of a file of the export, copied to a temporary file (in memory while
        small), rewound: what the attachments app reads like an upload."""
        copy = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 (the upload owns it)
        name = self.files[file_id]
        with _unreadable_refused(name), self.archive.open(name) as stream:
            while chunk := stream.read(SPOOL_BYTES):
                copy.write(chunk)
        copy.seek(0)
        return copy


@contextmanager
def _unreadable_refused(name):
    """A member whose bytes do not match its header (a broken or doctored zip)."""
    try:
        yield
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as error:
        # RuntimeError: an encrypted member; NotImplementedError: a compression zipfile lacks.
        raise ExportRefused(f"{name} cannot be read from the zip ({error}).") from None


def ts_key(ts):
    """Slack's "seconds.micro" as integers, for exact ordering (floats round)."""
    seconds, _, fraction = str(ts).partition(".")
    return int(seconds), int(fraction.ljust(6, "0")[:6])


def export_open(path):
    """The Export of the zip at `path`, or ExportRefused. The caller closes its archive."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        raise ExportRefused(f"{path} is not a zip file ({error}).") from None
    try:
        return _export_read(archive)
    except BaseException:
        archive.close()
        raise


def _export_read(archive):
    infos = [info for info in archive.infolist() if not info.is_dir()]
    for info in infos:
        _check_name(info.filename)
    total = sum(info.file_size for info in infos)
    if total > total_limit():
        raise ExportRefused(f"The export unpacks to {total:,} bytes (at most {total_limit():,}).")
    names = {info.filename for info in infos}
    users_name = "users.json" if "users.json" in names else "org_users.json"
    for required in (users_name, "channels.json"):
        if required not in names:
            raise ExportRefused(f"{required} is missing: this is not a Slack export.")
    export = Export(archive=archive, users=[], channels=[])
    export.users = _entries(export.read_json(users_name, expect=list), users_name)
    export.channels = _entries(export.read_json("channels.json", expect=list), "channels.json")
    for name in sorted(names):
        if match := DAY_FILE.match(name):
            export.days.setdefault(match["folder"], []).append(name)
        elif match := next((m for pattern in FILE_PATHS if (m := pattern.match(name))), None):
            export.files.setdefault(match["id"], name)
    return export


def _check_name(name):
    """No absolute names, no `..`, no backslashes or drive letters: nothing of the
    export may name a place outside it (it is read, never unpacked, but a name like
    that is a hostile or broken export either way)."""
    path = PurePosixPath(name)
    if name.startswith("/") or "\\" in name or ".." in path.parts or re.match(r"^[A-Za-z]:", name):
        raise ExportRefused(f"The export holds an unsafe file name: {name!r}.")


def _entries(value, name):
    """users.json and channels.json: a list of objects, each with a string id."""
    for entry in value:
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str) or not entry["id"]:
            raise ExportRefused(f"{name} holds an entry without an id.")
    return value
