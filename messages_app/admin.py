from django.contrib import admin
from django.utils.text import Truncator

from messages_app.models import Message


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["id", "room", "author", "excerpt", "created_at", "deleted_at"]
    search_fields = ["body", "author__username", "room__name"]
    raw_id_fields = ["room", "author", "deleted_by"]
    list_select_related = ["room", "author"]
    show_full_result_count = False  # no COUNT(*) over millions of rows

    @admin.display(description="Message")
    def excerpt(self, message):
        return Truncator(message.body).chars(80)
