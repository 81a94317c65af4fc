from django.urls import path

from notifications import views

urlpatterns = [
    path("rooms/<slug:slug>/notifications/", views.room_notifications, name="room_notifications"),
]
