from django.urls import path

from messages_app import views

urlpatterns = [
    path("rooms/<slug:slug>/messages/", views.room_messages, name="room_messages"),
    path("rooms/<slug:slug>/search/", views.room_search, name="room_search"),
    path("search/", views.search, name="search"),
    path("rooms/<slug:slug>/messages/<int:pk>/", views.message_detail, name="message_detail"),
    path("rooms/<slug:slug>/messages/<int:pk>/edit/", views.message_edit_view, name="message_edit"),
    path("rooms/<slug:slug>/messages/<int:pk>/delete/", views.message_delete_view, name="message_delete"),
    path("rooms/<slug:slug>/messages/<int:pk>/report/", views.message_report_view, name="message_report"),
]
