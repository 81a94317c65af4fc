from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from config.health import healthz

# Staff log in through allauth's form, under its rate limits: Django's own admin login has none.
admin.site.login = secure_admin_login(admin.site.login)


class FaviconRedirect(RedirectView):
    """Browsers ask for /favicon.ico where a response names no icon (JSON, files): send
    them to the SVG every page links. Not permanent: its hashed static name changes."""

    def get_redirect_url(self, *args, **kwargs):
        return static("favicon.svg")


urlpatterns = [
    path("favicon.ico", FaviconRedirect.as_view(), name="favicon"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("healthz", healthz, name="healthz"),
    path("", include("accounts.urls")),
    path("", include("attachments.urls")),
    path("", include("notifications.urls")),
    path("", include("api.urls")),
    path("", include("rooms.urls")),
    path("", include("messages_app.urls")),
]
