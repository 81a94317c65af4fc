"""The storage layer shared by avatars and attachments (issue 14 points 3 and 4):
config/settings.py STORAGES, config/stored_files.py, against MEDIA_ROOT and against a
real S3 server (moto's server mode on loopback, tests/s3_server.py)."""

import io
import json
import re
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from botocore.config import Config
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage
from django.http import Http404
from PIL import Image
from storages.backends.s3 import S3Storage

from accounts import services
from accounts.models import AVATAR_SIZES, avatar_file_name
from config.security import CONTENT_SECURITY_POLICY
from config.stored_files import content_disposition, stored_file_delete, stored_file_response
from tests.factories import UserFactory
from tests.test_settings import run_manage

pytestmark = pytest.mark.django_db

FILESYSTEM = "django.core.files.storage.FileSystemStorage"
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTHENTICATED_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"

# What a hostile uploader may call a file, and what the download offers instead.
HOSTILE_NAMES = [
    pytest.param('say "hi".txt', 'say "hi".txt', id="quotes"),
    pytest.param("a\\b;c=d.txt", "b;c=d.txt", id="backslash-path"),
    pytest.param("a\r\nSet-Cookie: s=evil.txt", "a Set-Cookie: s=evil.txt", id="newlines"),
    pytest.param("../../etc/passwd", "passwd", id="path"),
    pytest.param("C:\\Users\\me\\secret.txt", "secret.txt", id="windows-path"),
    pytest.param("résumé 📎 €.pdf", "résumé 📎 €.pdf", id="unicode"),
    pytest.param("\u202egpj.exe", "gpj.exe", id="bidi-override"),
    pytest.param("\x00\x07...", "download", id="nothing-left"),
]


def png_bytes(colour="green"):
    output = io.BytesIO()
    Image.new("RGB", (40, 40), colour).save(output, "PNG")
    return output.getvalue()


def fetch(url):
    """A plain HTTP GET, as a browser following the redirect would make it:
    (status, headers, body), without raising on 4xx."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def disposition_of(header):
    """(kind, file name) as a browser reads a Content-Disposition header (RFC 6266:
    the encoded filename* wins over the plain filename, which must be a clean quoted
    ASCII string)."""
    kind, _, params = header.partition(";")
    plain = re.search(r'filename="([^"\\]*)"', params)
    encoded = re.search(r"filename\*=utf-8''([^;\s]+)", params)
    assert plain and plain.group(1).isprintable(), header
    return kind.strip(), unquote(encoded.group(1)) if encoded else plain.group(1)


def signed_query(url):
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


# --- Settings -----------------------------------------------------------------------


def production_env(**extra):
    return {
        "DEBUG": "0",
        "SECRET_KEY": "k" * 20 + "-production-secret-key-with-enough-entropy-9f8e7d",
        "ALLOWED_HOSTS": "chat.example.com",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/chat",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        **extra,
    }


S3_ENV = {
    "AWS_STORAGE_BUCKET_NAME": "chat-files",
    "AWS_S3_ENDPOINT_URL": "https://s3.example.com",
    "AWS_S3_REGION_NAME": "eu-west-1",
    "AWS_ACCESS_KEY_ID": "key-id",
    "AWS_SECRET_ACCESS_KEY": "secret",
}


def test_the_bucket_setting_selects_private_s3_with_short_signed_urls():
    code = (
        "from django.conf import settings; import json; storage = settings.STORAGES['default'];"
        "config = storage['OPTIONS'].pop('client_config');"
        "storage['config'] = {'signature_version': config.signature_version, 's3': config.s3,"
        " 'connect_timeout': config.connect_timeout};"
        "print(json.dumps(storage))"
    )
    result = run_manage("shell", "--no-imports", "-c", code, env=production_env(**S3_ENV))
    assert result.returncode == 0, result.stderr
    storage = json.loads(result.stdout)
    options = storage["OPTIONS"]
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    assert options["bucket_name"] == "chat-files" and options["endpoint_url"] == "https://s3.example.com"
    assert options["region_name"] == "eu-west-1" and options["access_key"] == "key-id"
    assert options["default_acl"] is None and options["querystring_auth"] is True
    assert options["querystring_expire"] == 300 and options["file_overwrite"] is False
    assert storage["config"] == {
        "signature_version": "s3v4",
        "s3": {"addressing_style": None},
        "connect_timeout": 5,
    }

    result = run_manage(
        "shell", "--no-imports", "-c", code, env=production_env(**S3_ENV, STORAGE_URL_EXPIRES="120")
    )
    assert json.loads(result.stdout)["OPTIONS"]["querystring_expire"] == 120


def test_without_a_bucket_files_stay_under_media_root():
    code = (
        "from django.conf import settings; from config.backends import backend_summary;"
        "print(settings.STORAGES['default']['BACKEND']); print(backend_summary()[-1])"
    )
    result = run_manage(
        "shell", "--no-imports", "-c", code, env={"DEBUG": "1", "MEDIA_ROOT": "/srv/chat-media"}
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "django.core.files.storage.FileSystemStorage",
        "Files: /srv/chat-media (set AWS_STORAGE_BUCKET_NAME for S3)",
    ]


def test_production_settings_with_a_bucket_pass_check_deploy():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=production_env(**S3_ENV))
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


# --- Filesystem storage -------------------------------------------------------------


def test_a_local_non_image_is_streamed_as_an_attachment_with_nosniff():
    assert isinstance(default_storage, FileSystemStorage)  # the s3 fixture leaves nothing behind
    name = default_storage.save("tests/page.html", ContentFile(b"<script>alert(1)</script>"))
    response = stored_file_response(name, content_type="text/html", download_name="page.html", inline=True)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/html"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == 'attachment; filename="page.html"'  # inline refused
    assert response["Cache-Control"] == "private, no-cache"
    assert b"".join(response.streaming_content) == b"<script>alert(1)</script>"


def test_a_local_safe_image_is_inline_and_a_missing_file_is_404():
    name = default_storage.save("tests/dot.png", ContentFile(png_bytes()))
    response = stored_file_response(name, content_type="image/png", max_age=60)
    assert disposition_of(response["Content-Disposition"]) == ("inline", Path(name).name)
    assert response["Cache-Control"] == "private, max-age=60"
    download = stored_file_response(name, content_type="image/png", inline=False)
    assert download["Content-Disposition"].startswith("attachment;")
    with pytest.raises(Http404):
        stored_file_response("tests/nothing-here.png", content_type="image/png")


def test_avatars_from_disk_are_inline_webp_kept_a_year(client):
    user = UserFactory()
    services.avatar_set(user=user, upload=ContentFile(png_bytes(), name="me.png"))
    assert user.avatar_url(64).startswith("/media/avatars/")
    response = client.get(user.avatar_url(64))
    assert response.status_code == 200 and response["Content-Type"] == "image/webp"
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert disposition_of(response["Content-Disposition"])[0] == "inline"
    assert (Path(settings.MEDIA_ROOT) / avatar_file_name(user.avatar, 64)).is_file()


@pytest.mark.parametrize(("hostile", "offered"), HOSTILE_NAMES)
def test_hostile_download_names_are_encoded_safely_from_disk(hostile, offered):
    name = default_storage.save("tests/file.bin", ContentFile(b"data"))
    response = stored_file_response(name, content_type="application/octet-stream", download_name=hostile)
    header = response["Content-Disposition"]
    assert header.isascii() and "\r" not in header and "\n" not in header
    assert disposition_of(header) == ("attachment", offered)


def test_the_ascii_stand_in_has_no_quotes_and_the_exact_name_follows():
    header = content_disposition(inline=False, filename='é "x" 📎.txt')
    assert header == (
        "attachment; filename=\"e _x_ .txt\"; filename*=utf-8''%C3%A9%20%22x%22%20%F0%9F%93%8E.txt"
    )


def test_stored_file_delete_removes_a_local_file_and_tolerates_a_missing_one():
    name = default_storage.save("tests/gone.txt", ContentFile(b"x"))
    assert stored_file_delete(name) is True and not default_storage.exists(name)
    assert stored_file_delete(name) is True


# --- S3 (moto's server on loopback) ---------------------------------------------------


def test_an_avatar_uploaded_through_the_profile_form_lands_in_the_bucket(client, s3_storage):
    assert isinstance(default_storage, S3Storage)
    user = UserFactory()
    client.force_login(user)
    response = client.post("/accounts/profile/", {"avatar": ContentFile(png_bytes("red"), name="me.png")})
    assert response.status_code == 303, response.content.decode()
    user.refresh_from_db()
    assert s3_storage.object_keys() == sorted(avatar_file_name(user.avatar, side) for side in AVATAR_SIZES)
    for side in AVATAR_SIZES:
        image = Image.open(io.BytesIO(s3_storage.read(avatar_file_name(user.avatar, side))))
        assert (image.format, image.size) == ("WEBP", (side, side))
    assert not (Path(settings.MEDIA_ROOT) / avatar_file_name(user.avatar, 64)).exists()


def test_the_avatar_url_redirects_to_a_short_signed_url_that_serves_the_image(client, s3_storage):
    user = UserFactory()
    services.avatar_set(user=user, upload=ContentFile(png_bytes(), name="me.png"))
    key = avatar_file_name(user.avatar, 64)
    page_url = user.avatar_url(64)
    assert page_url.startswith("/media/avatars/")  # pages link the app, never a signed URL

    before = datetime.now(UTC).replace(microsecond=0)
    response = client.get(page_url)
    assert response.status_code == 302
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, max-age=150"  # half the signed URL's life
    location = response["Location"]
    assert location.startswith(f"{s3_storage.server.endpoint_url}/{s3_storage.name}/{key}?")
    query = signed_query(location)
    assert int(query["X-Amz-Expires"]) <= 300 and query["X-Amz-Signature"]
    signed_at = datetime.strptime(query["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert before.timestamp() - 5 <= signed_at.timestamp() <= time.time() + 5

    status, headers, body = fetch(location)
    assert status == 200 and body == s3_storage.read(key)
    assert headers["Content-Type"] == "image/webp"
    assert disposition_of(headers["Content-Disposition"]) == ("inline", key.rsplit("/", 1)[-1])
    assert headers["Cache-Control"] == "private, max-age=300"


def test_storage_url_expires_sets_the_signed_urls_life(s3_storage, settings):
    settings.STORAGE_URL_EXPIRES = 60
    default_storage.save("files/a.txt", ContentFile(b"a"))
    response = stored_file_response("files/a.txt", content_type="text/plain")
    assert signed_query(response["Location"])["X-Amz-Expires"] == "60"
    assert response["Cache-Control"] == "private, no-store"  # max_age 0: no caching of the redirect


def test_objects_are_private_in_the_bucket(s3_storage):
    user = UserFactory()
    services.avatar_set(user=user, upload=ContentFile(png_bytes(), name="me.png"))
    key = avatar_file_name(user.avatar, 64)

    status, _, body = fetch(s3_storage.url(key))
    assert status == 403 and png_bytes() not in body
    grants = s3_storage.client().get_object_acl(Bucket=s3_storage.name, Key=key)["Grants"]
    assert grants and not any(
        grant["Grantee"].get("URI") in {ALL_USERS, AUTHENTICATED_USERS} for grant in grants
    )

    # The check can see a public object: one put with a public ACL is readable anonymously.
    s3_storage.client().put_object(Bucket=s3_storage.name, Key="public.txt", Body=b"open", ACL="public-read")
    status, _, body = fetch(s3_storage.url("public.txt"))
    assert (status, body) == (200, b"open")


def test_a_non_image_from_s3_is_an_attachment_of_its_declared_type(s3_storage):
    name = default_storage.save("files/page.html", ContentFile(b"<script>alert(1)</script>"))
    response = stored_file_response(name, content_type="text/html", inline=True)
    status, headers, body = fetch(response["Location"])
    assert status == 200 and body == b"<script>alert(1)</script>"
    assert headers["Content-Type"] == "text/html"
    assert disposition_of(headers["Content-Disposition"]) == ("attachment", "page.html")


@pytest.mark.parametrize(("hostile", "offered"), HOSTILE_NAMES)
def test_hostile_download_names_are_encoded_safely_from_s3(s3_storage, hostile, offered):
    name = default_storage.save("files/file.bin", ContentFile(b"data"))
    response = stored_file_response(name, content_type="application/octet-stream", download_name=hostile)
    status, headers, _ = fetch(response["Location"])
    header = headers["Content-Disposition"]
    assert status == 200 and header.isascii()
    assert disposition_of(header) == ("attachment", offered)


def test_a_name_is_never_overwritten_in_the_bucket(s3_storage):
    first = default_storage.save("files/same.txt", ContentFile(b"one"))
    second = default_storage.save("files/same.txt", ContentFile(b"two"))
    assert first == "files/same.txt" and second != first
    assert (s3_storage.read(first), s3_storage.read(second)) == (b"one", b"two")


def test_replacing_an_avatar_deletes_the_old_objects_from_the_bucket(
    s3_storage, django_capture_on_commit_callbacks
):
    user = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        services.avatar_set(user=user, upload=ContentFile(png_bytes(), name="a.png"))
    first = user.avatar
    with django_capture_on_commit_callbacks(execute=True):
        services.avatar_set(user=user, upload=ContentFile(png_bytes("blue"), name="b.png"))
    assert s3_storage.object_keys() == sorted(avatar_file_name(user.avatar, side) for side in AVATAR_SIZES)
    assert not any(key.startswith(first) for key in s3_storage.object_keys())


def test_stored_file_delete_removes_the_object_and_survives_an_outage(s3_storage, settings, caplog):
    name = default_storage.save("files/x.txt", ContentFile(b"x"))
    assert stored_file_delete(name) is True and s3_storage.object_keys() == []
    # A store that does not answer: logged, not raised (the rows are gone already).
    options = settings.STORAGES["default"]["OPTIONS"]
    unreachable = Config(connect_timeout=1, retries={"total_max_attempts": 1})
    storage = S3Storage(**{**options, "endpoint_url": "http://127.0.0.1:9", "client_config": unreachable})
    assert stored_file_delete("files/y.txt", storage=storage) is False
    assert "Could not delete stored file files/y.txt" in caplog.text


def test_pages_allow_images_from_the_object_store_and_only_then(client, s3_storage, settings):
    client.force_login(UserFactory())
    policy = client.get("/accounts/profile/")["Content-Security-Policy"]
    origin = s3_storage.server.endpoint_url
    assert f"img-src 'self' data: {origin};" in policy and f"media-src 'self' {origin}" in policy
    assert "script-src 'self';" in policy  # nothing else loosened

    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": FILESYSTEM}}
    assert client.get("/accounts/profile/")["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert origin not in CONTENT_SECURITY_POLICY


# --- A server process on S3 (what the browser tests run) ------------------------------


def test_a_server_process_on_s3_redirects_avatars_to_its_bucket(s3_server, s3_asgi_server, settings):
    s3_server.use(settings, s3_asgi_server.bucket)
    user = UserFactory()
    services.avatar_set(user=user, upload=ContentFile(png_bytes(), name="me.png"))
    key = avatar_file_name(user.avatar, 128)

    opener = urllib.request.build_opener(NoRedirect)
    try:
        opener.open(s3_asgi_server.url + user.avatar_url(128), timeout=10)
        raise AssertionError("expected a redirect")
    except urllib.error.HTTPError as redirect:
        assert redirect.code == 302
        location = redirect.headers["Location"]
    assert location.startswith(f"{s3_server.endpoint_url}/{s3_asgi_server.bucket.name}/{key}?")
    status, headers, body = fetch(location)
    assert status == 200 and headers["Content-Type"] == "image/webp"
    assert body == s3_asgi_server.bucket.read(key)
    s3_asgi_server.assert_clean_log()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None
