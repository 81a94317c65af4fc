from django.contrib import admin

from notifications.models import Notification, Preferences, PushSubscription, RoomLevel


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["user", "room", "reason", "created_at", "pushed_at", "emailed_at"]
    list_filter = ["reason"]
    list_select_related = ["user", "room"]
    raw_id_fields = ["user", "message", "room"]
    search_fields = ["user__username", "room__name"]


@admin.register(PushSubscription)
class PushSubscriptionAdmin(admin.ModelAdmin):
    list_display = ["user", "device", "created_at", "last_used_at"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]
    search_fields = ["user__username", "device"]


@admin.register(Preferences)
class PreferencesAdmin(admin.ModelAdmin):
    list_display = ["user", "room_level", "direct_level", "email_enabled", "do_not_disturb_until"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]
    search_fields = ["user__username"]


@admin.register(RoomLevel)
class RoomLevelAdmin(admin.ModelAdmin):
    list_display = ["user", "room", "level"]
    list_filter = ["level"]
    list_select_related = ["user", "room"]
    raw_id_fields = ["user", "room"]
    search_fields = ["user__username", "room__name"]
