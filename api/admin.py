"""Incoming webhooks in the admin: listed for staff, revocable; never added here (a hook's
secret is shown once, to the owner who makes it on the room's webhooks page)."""

from django.contrib import admin, messages

from api.models import IncomingWebhook
from api.webhooks import webhook_revoke


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
