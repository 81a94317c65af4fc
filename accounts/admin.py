from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from accounts.models import User


class ChatUserAdmin(UserAdmin):
    fieldsets = [
        *UserAdmin.fieldsets,
        ("Profile", {"fields": ("display_name", "status_emoji", "status_text", "time_zone", "avatar")}),
    ]
    readonly_fields = ("avatar",)  # a stem of generated file names: changed through the profile page
    list_display = ("username", "display_name", "email", "is_staff")
    search_fields = (*UserAdmin.search_fields, "display_name")


admin.site.register(User, ChatUserAdmin)
