from django.urls import path

from api import webhook_views

urlpatterns = [
    path("hooks/<str:token>/", webhook_views.webhook_post_view, name="webhook_post"),
    path("rooms/<slug:slug>/webhooks/", webhook_views.room_webhooks, name="room_webhooks"),
    path(
        "rooms/<slug:slug>/webhooks/<int:pk>/revoke/",
        webhook_views.room_webhook_revoke,
        name="room_webhook_revoke",
    ),
]
