from django.urls import path

from notifications import views

urlpatterns = [
    path("rooms/<slug:slug>/notifications/", views.room_notifications, name="room_notifications"),
    path("notifications/email/", views.email_settings, name="email_settings"),
    path("notifications/unsubscribe/<str:token>/", views.email_unsubscribe_page, name="email_unsubscribe"),
]
