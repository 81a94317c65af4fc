"""Invite links in the admin. Rooms and memberships are registered by
messages_app/admin/rooms.py: their changes are moderation, with an audit trail."""

from django.contrib import admin

from rooms.models import Invitation


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["room", "created_by", "created_at", "expires_at", "revoked_at", "use_count"]
    list_filter = ["room"]
    search_fields = ["room__name", "created_by__username", "token"]
    raw_id_fields = ["room", "created_by"]
    list_select_related = ["room", "created_by"]
    readonly_fields = ["token", "use_count"]
