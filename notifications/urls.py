from django.urls import path

from notifications import views

urlpatterns = [
    path("rooms/<slug:slug>/notifications/", views.room_notifications, name="room_notifications"),
    path("accounts/notifications/", views.notification_settings, name="notification_settings"),
    path("accounts/notifications/quiet/", views.do_not_disturb, name="do_not_disturb"),
    path("accounts/notifications/devices/<int:pk>/remove/", views.device_remove, name="device_remove"),
    path("notifications/unsubscribe/<str:token>/", views.email_unsubscribe_page, name="email_unsubscribe"),
    path("push/key/", views.push_key, name="push_key"),
    path("push/subscriptions/", views.push_subscriptions, name="push_subscriptions"),
    path("sw.js", views.service_worker, name="service_worker"),
]
