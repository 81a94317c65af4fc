"""Attachments in the admin: size, type, uploader and room, and a removal that takes
the bytes out of storage and the file off every page (services.attachment_remove).
Direct conversations' files are listed only when a message there was reported, as
for their messages."""

from django.contrib import admin, messages

from attachments.models import Attachment
from attachments.services import attachment_remove, size_text
from messages_app.admin.messages import CappedCountPaginator, direct_visible_to_staff


@admin.register(Attachment)
class AttachmentAdmin(admin.ModelAdmin):
    list_display = ["name", "shown_size", "content_type", "uploader", "room", "created_at"]
    list_select_related = ["uploader", "room"]
    list_filter = ["content_type"]
    search_fields = ["name"]
    paginator = CappedCountPaginator
    show_full_result_count = False
    actions = ["remove_selected"]
    readonly_fields = [field.name for field in Attachment._meta.fields]
    ordering = ["-id"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(direct_visible_to_staff("room"))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.display(description="size", ordering="size")
    def shown_size(self, attachment):
        return size_text(attachment.size)

    @admin.action(description="Remove selected files (from storage and every page)", permissions=["delete"])
    def remove_selected(self, request, queryset):
        removed = 0
        for attachment in queryset.select_related("message", "message__room"):
            attachment_remove(attachment=attachment, actor=request.user)
            removed += 1
        self.message_user(request, f"Removed {removed} file{'s' if removed != 1 else ''}.", messages.SUCCESS)

    def delete_model(self, request, obj):
        attachment_remove(attachment=obj, actor=request.user)
