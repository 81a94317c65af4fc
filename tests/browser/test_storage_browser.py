"""Avatars on object storage in a real browser (issue 14 point 3): a server process
whose files are in a bucket of moto's S3 server (tests/conftest.py s3_asgi_server).
The page links the app's avatar URL, which redirects to a signed URL of the store;
Chromium follows it, the page's CSP lets the image in, and nothing fails."""

import io

import pytest
from PIL import Image
from playwright.sync_api import expect

from accounts.models import AVATAR_SIZES, avatar_file_name
from tests.browser.helpers import logged_in_context
from tests.browser.test_profile_browser import watch_for_problems
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def photo():
    output = io.BytesIO()
    Image.new("RGB", (300, 200), (20, 120, 200)).save(output, "PNG")
    return output.getvalue()


def test_an_avatar_uploaded_to_s3_shows_through_a_signed_redirect(s3_asgi_server, new_context):
    user = UserFactory()
    context = logged_in_context(new_context, s3_asgi_server, user)
    problems = watch_for_problems(context)
    page = context.new_page()
    page.goto(f"{s3_asgi_server.url}/accounts/profile/")
    page.get_by_label("Avatar:", exact=True).set_input_files(
        files=[{"name": "me.png", "mimeType": "image/png", "buffer": photo()}]
    )
    with page.expect_response(lambda response: "X-Amz-Signature=" in response.url) as signed:
        page.get_by_role("button", name="Save profile").click()
        expect(page.locator(".flash")).to_contain_text("Your profile is saved.")
    expect(page.locator(".profile-card img.avatar")).to_have_js_property("naturalWidth", 128)
    expect(page.locator(".user-menu summary img.avatar")).to_have_js_property("naturalWidth", 64)
    bucket = s3_asgi_server.bucket
    assert signed.value.status == 200
    assert signed.value.url.startswith(f"{bucket.server.endpoint_url}/{bucket.name}/avatars/")

    user.refresh_from_db()
    expected = sorted(avatar_file_name(user.avatar, side) for side in AVATAR_SIZES)
    assert set(expected) <= set(s3_asgi_server.bucket.object_keys())
    assert problems == []
    s3_asgi_server.assert_clean_log()
