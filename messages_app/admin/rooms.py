"""Rooms and memberships in the admin. Membership changes that are moderation (ban,
mute, roles, slow mode) go through admin actions that call messages_app.moderation,
so they take effect live and land in the audit trail; the raw fields are read-only
here. (Invite links, which need no moderation, are in rooms/admin.py.)"""

from django.contrib import admin, messages

from messages_app import moderation
from messages_app.admin.messages import VisibleRoomFilter, direct_visible_to_staff
from messages_app.models import ModerationAction
from rooms.models import Membership, Room
from rooms.services import RoomError

ADMIN = ModerationAction.Source.ADMIN
MODERATION_FIELDS = ["role", "banned_at", "muted_until"]


class MembershipInline(admin.TabularInline):
    model = Membership
    raw_id_fields = ["user"]
    readonly_fields = MODERATION_FIELDS + ["last_read_message_id"]
    extra = 0


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "kind", "slow_mode_seconds", "created_by", "created_at"]
    list_filter = ["kind"]
    search_fields = ["name", "slug", "topic"]
    raw_id_fields = ["created_by"]
    list_select_related = ["created_by"]
    inlines = [MembershipInline]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(direct_visible_to_staff(""))

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "slow_mode_seconds" in form.changed_data:
            moderation.room_set_slow_mode(
                room=obj, seconds=obj.slow_mode_seconds, actor=request.user, source=ADMIN
            )


class BannedFilter(admin.SimpleListFilter):
    title = "banned"
    parameter_name = "banned"

    def lookups(self, request, model_admin):
        return [("yes", "Banned"), ("no", "Not banned")]

    def queryset(self, request, queryset):
        if self.value() in {"yes", "no"}:
            return queryset.filter(banned_at__isnull=self.value() == "no")
        return queryset


def _membership_action(service, description, **options):
    """An admin action running a moderation service on each selected membership."""

    @admin.action(description=description)
    def action(modeladmin, request, queryset):
        done = 0
        for membership in queryset.select_related("room", "user"):
            try:
                service(
                    room=membership.room, user=membership.user, actor=request.user, source=ADMIN, **options
                )
                done += 1
            except RoomError as refusal:
                modeladmin.message_user(request, f"{membership}: {refusal}", messages.WARNING)
        modeladmin.message_user(request, f"{description}: {done} membership(s).", messages.SUCCESS)

    action.__name__ = f"{service.__name__}_{'_'.join(options.values()) or 'all'}"
    return action


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "room", "role", "joined_at", "banned_at", "muted_until"]
    list_filter = ["role", BannedFilter, ("room", VisibleRoomFilter)]
    search_fields = ["user__username", "room__name"]
    raw_id_fields = ["user", "room"]
    readonly_fields = MODERATION_FIELDS
    list_select_related = ["user", "room"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(direct_visible_to_staff("room"))

    actions = [
        _membership_action(moderation.member_ban, "Ban from the room"),
        _membership_action(moderation.member_unban, "Unban"),
        _membership_action(moderation.member_mute, "Mute for 1 hour", duration="1h"),
        _membership_action(moderation.member_mute, "Mute for 24 hours", duration="24h"),
        _membership_action(moderation.member_unmute, "Unmute"),
        _membership_action(moderation.member_promote, "Promote to moderator"),
        _membership_action(moderation.member_demote, "Demote to member"),
    ]
