"""Tokens and incoming webhooks in the admin: staff see and revoke them, never make one
(a secret would have no one to be shown to) nor touch a stored hash."""

from django.contrib import admin, messages

from api.models import ApiToken, IncomingWebhook
from api.webhooks import webhook_revoke


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "scope", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["scope"]
    search_fields = ["name", "user__username", "prefix"]
    list_select_related = ["user"]
    fields = ["user", "name", "scope", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["user", "prefix", "created_at", "last_used_at"]

    def has_add_permission(self, request):
        return False


@admin.register(IncomingWebhook)
class IncomingWebhookAdmin(admin.ModelAdmin):
    list_display = ["name", "room", "created_by", "created", "last_used", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter), "room"]
    search_fields = ["name", "room__name", "created_by__username"]
    list_select_related = ["room", "created_by"]
    fields = ["name", "room", "created_by", "bot", "created", "last_used", "revoked_at"]
    readonly_fields = fields
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Revoke the selected webhooks")
    def revoke(self, request, queryset):
        hooks = list(queryset.filter(revoked_at__isnull=True).select_related("room", "bot"))
        for hook in hooks:
            webhook_revoke(hook=hook, revoked_by=request.user)
        self.message_user(request, f"{len(hooks)} webhook(s) revoked.", messages.SUCCESS)
