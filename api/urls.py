from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt

from api import views, webhook_views
from api.errors import error_response, with_json_errors
from api.rest import api


def _api_patterns():
    """ninja's URL patterns, each path once (ninja lists a path once per method; one
    view dispatches them all), with JSON refusals for what ninja answers otherwise."""
    patterns, app_name, namespace = api.urls
    seen, unique = set(), []
    for pattern in patterns:
        if str(pattern.pattern) not in seen:
            seen.add(str(pattern.pattern))
            pattern.callback = with_json_errors(pattern.callback)
            unique.append(pattern)
    return include((unique, app_name), namespace=namespace)


@csrf_exempt  # answers nothing but 404, whatever the method: bearer clients send no CSRF token
def api_not_found(request):
    return error_response(404, "No such API endpoint.")


urlpatterns = [
    path("accounts/tokens/", views.token_page, name="api_tokens"),
    path("accounts/tokens/<int:pk>/revoke/", views.token_revoke_view, name="api_token_revoke"),
    path("api/v1/", _api_patterns()),
    path("hooks/<str:token>/", webhook_views.webhook_post_view, name="webhook_post"),
    path("rooms/<slug:slug>/webhooks/", webhook_views.room_webhooks, name="room_webhooks"),
    path(
        "rooms/<slug:slug>/webhooks/<int:pk>/revoke/",
        webhook_views.room_webhook_revoke,
        name="room_webhook_revoke",
    ),
    re_path(r"^api/", api_not_found, name="api_not_found"),
]
