from django.contrib import admin

from rooms.models import Membership, Room


class MembershipInline(admin.TabularInline):
    model = Membership
    raw_id_fields = ["user"]
    extra = 0


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "is_private", "created_by", "created_at"]
    list_filter = ["is_private"]
    search_fields = ["name", "slug", "topic"]
    raw_id_fields = ["created_by"]
    list_select_related = ["created_by"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "room", "role", "joined_at", "banned_at", "muted_until"]
    list_filter = ["role"]
    search_fields = ["user__username", "room__name"]
    raw_id_fields = ["user", "room"]
    list_select_related = ["user", "room"]
