from django.urls import path

from rooms import views

urlpatterns = [
    path("", views.directory, name="directory"),
    path("rooms/new/", views.room_new, name="room_new"),
    path("rooms/<slug:slug>/", views.room_detail, name="room_detail"),
    path("rooms/<slug:slug>/join/", views.room_join_view, name="room_join"),
    path("rooms/<slug:slug>/leave/", views.room_leave_view, name="room_leave"),
    path("rooms/<slug:slug>/invite/", views.room_invite_view, name="room_invite"),
    path("rooms/<slug:slug>/invitations/", views.invitation_create_view, name="invitation_create"),
    path(
        "rooms/<slug:slug>/invitations/<int:pk>/revoke/",
        views.invitation_revoke_view,
        name="invitation_revoke",
    ),
    path("invite/<slug:token>/", views.invitation_detail, name="invitation_detail"),
    path(
        "rooms/<slug:slug>/members/<int:user_id>/<slug:action>/",
        views.member_moderate,
        name="member_moderate",
    ),
    path("rooms/<slug:slug>/slow-mode/", views.room_slow_mode, name="room_slow_mode"),
]
