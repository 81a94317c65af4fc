from django.urls import path

from messages_app import views

urlpatterns = [
    path("rooms/<slug:slug>/messages/", views.room_messages, name="room_messages"),
]
