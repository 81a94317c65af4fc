from django.urls import path

from rooms import views

urlpatterns = [
    path("", views.directory, name="directory"),
    path("rooms/new/", views.room_new, name="room_new"),
    path("rooms/<slug:slug>/", views.room_detail, name="room_detail"),
    path("rooms/<slug:slug>/join/", views.room_join_view, name="room_join"),
    path("rooms/<slug:slug>/leave/", views.room_leave_view, name="room_leave"),
]
