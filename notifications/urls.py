from django.urls import path

from notifications import views

urlpatterns = [
    path("rooms/<slug:slug>/notifications/", views.room_notifications, name="room_notifications"),
    path("push/key/", views.push_key, name="push_key"),
    path("push/subscriptions/", views.push_subscriptions, name="push_subscriptions"),
    path("sw.js", views.service_worker, name="service_worker"),
]
