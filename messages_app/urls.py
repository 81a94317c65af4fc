from django.urls import path

from messages_app import conversation_views, room_views, views

urlpatterns = [
    path("", room_views.directory, name="directory"),
    path("rooms/<slug:slug>/", room_views.room_detail, name="room_detail"),
    path("rooms/<slug:slug>/join/", room_views.room_join_view, name="room_join"),
    path("rooms/<slug:slug>/leave/", room_views.room_leave_view, name="room_leave"),
    path(
        "rooms/<slug:slug>/invitation/accept/",
        room_views.room_invitation_answer,
        {"answer": "accept"},
        name="room_invitation_accept",
    ),
    path(
        "rooms/<slug:slug>/invitation/decline/",
        room_views.room_invitation_answer,
        {"answer": "decline"},
        name="room_invitation_decline",
    ),
    path("rooms/<slug:slug>/invite/", room_views.room_invite_view, name="room_invite"),
    path("rooms/<slug:slug>/invitations/", room_views.invitation_create_view, name="invitation_create"),
    path(
        "rooms/<slug:slug>/invitations/<int:pk>/revoke/",
        room_views.invitation_revoke_view,
        name="invitation_revoke",
    ),
    path(
        "rooms/<slug:slug>/members/<int:user_id>/<slug:action>/",
        room_views.member_moderate,
        name="member_moderate",
    ),
    path("rooms/<slug:slug>/slow-mode/", room_views.room_slow_mode, name="room_slow_mode"),
    path("rooms/<slug:slug>/settings/", room_views.room_settings_view, name="room_settings"),
    path("rooms/<slug:slug>/archive/", room_views.room_archive_view, name="room_archive"),
    path("rooms/<slug:slug>/restore/", room_views.room_restore_view, name="room_restore"),
    path("rooms/<slug:slug>/delete/", room_views.room_delete_view, name="room_delete"),
    path("rooms/<slug:slug>/messages/", views.room_messages, name="room_messages"),
    path("rooms/<slug:slug>/search/", views.room_search, name="room_search"),
    path("rooms/<slug:slug>/export/", views.room_export, name="room_export"),
    path("search/", views.search, name="search"),
    path("rooms/<slug:slug>/messages/<int:pk>/", views.message_detail, name="message_detail"),
    path("rooms/<slug:slug>/messages/<int:pk>/edit/", views.message_edit_view, name="message_edit"),
    path("rooms/<slug:slug>/messages/<int:pk>/delete/", views.message_delete_view, name="message_delete"),
    path("rooms/<slug:slug>/messages/<int:pk>/report/", views.message_report_view, name="message_report"),
    path(
        "rooms/<slug:slug>/messages/<int:pk>/reactions/",
        views.message_reactions_view,
        name="message_reactions",
    ),
    path(
        "rooms/<slug:slug>/messages/<int:pk>/thread/",
        conversation_views.message_thread_view,
        name="message_thread",
    ),
    path("rooms/<slug:slug>/messages/<int:pk>/pin/", conversation_views.message_pin_view, name="message_pin"),
    path("rooms/<slug:slug>/pins/", conversation_views.room_pins, name="room_pins"),
    path(
        "rooms/<slug:slug>/messages/<int:pk>/preview/remove/",
        views.link_preview_remove_view,
        name="link_preview_remove",
    ),
    path(
        "rooms/<slug:slug>/messages/<int:pk>/preview/image/",
        views.link_preview_image,
        name="link_preview_image",
    ),
]
