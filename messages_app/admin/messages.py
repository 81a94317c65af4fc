"""Messages, reports and the audit trail in the admin, usable at millions of rows.

Deleting and restoring go through messages_app.services (live on every page, in
the audit trail); Django's own hard "delete selected" is not offered.
"""

from django.contrib import admin, messages
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Q
from django.template.loader import render_to_string
from django.utils.functional import cached_property
from django.utils.text import Truncator

from messages_app.models import Message, ModerationAction, Report
from messages_app.selectors import message_list_around
from messages_app.services import MessageRejected, message_delete, message_restore, report_resolve
from rooms.models import Room
from rooms.services import RoomError

ADMIN = ModerationAction.Source.ADMIN


def direct_visible_to_staff(room_field):
    """A filter on rooms (through `room_field`, "" for Room itself): rooms, and direct
    conversations with a reported message."""
    prefix = f"{room_field}__" if room_field else ""
    reported = Report.objects.filter(message__room=OuterRef(room_field or "pk"))
    return ~Q(**{f"{prefix}kind": Room.Kind.DIRECT}) | Q(Exists(reported))


class CappedCountPaginator(Paginator):
    """Counts at most CAP rows: COUNT(*) over millions of messages would cost more
    than the page itself. Past the cap, filters and search narrow the list."""

    CAP = 10_000

    @cached_property
    def count(self):
        return self.object_list.values("pk")[: self.CAP].count()


class DeletedFilter(admin.SimpleListFilter):
    title = "deleted"
    parameter_name = "deleted"

    def lookups(self, request, model_admin):
        return [("yes", "Deleted"), ("no", "Not deleted")]

    def queryset(self, request, queryset):
        if self.value() in {"yes", "no"}:
            return queryset.filter(deleted_at__isnull=self.value() == "no")
        return queryset


class VisibleRoomFilter(admin.RelatedFieldListFilter):
    """The room filter's choices without the direct conversations staff may not see:
    their names alone say who talks to whom."""

    def field_choices(self, field, request, model_admin):
        return [(room.pk, str(room)) for room in Room.objects.filter(direct_visible_to_staff(""))]


def _without_hard_delete(actions):
    actions.pop("delete_selected", None)
    return actions


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["id", "room", "author", "excerpt", "created_at", "is_deleted"]
    list_filter = [("room", VisibleRoomFilter), DeletedFilter, ("created_at", admin.DateFieldListFilter)]
    search_fields = ["body", "author__username", "room__name"]
    # Read-only: a change must re-render, broadcast and be audited, so it goes
    # through the actions (services), never through this form.
    readonly_fields = [
        "room",
        "author",
        "body",
        "body_html",
        "created_at",
        "edited_at",
        "deleted_at",
        "deleted_by",
    ]
    exclude = ["mentions"]
    list_select_related = ["room", "author"]
    ordering = ["-id"]
    paginator = CappedCountPaginator
    show_full_result_count = False
    actions = ["delete_messages", "restore_messages"]

    def get_queryset(self, request):
        # A direct conversation is private to its people: staff see its messages only
        # once one of them is reported (then the whole conversation, for context).
        return super().get_queryset(request).filter(direct_visible_to_staff("room"))

    @admin.display(description="Message")
    def excerpt(self, message):
        return Truncator(message.body).chars(80)

    @admin.display(description="Deleted", boolean=True)
    def is_deleted(self, message):
        return message.deleted_at is not None

    def get_actions(self, request):
        return _without_hard_delete(super().get_actions(request))

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Delete (for everyone, reversible)")
    def delete_messages(self, request, queryset):
        self._run(
            request,
            queryset,
            lambda m: message_delete(room=m.room, user=request.user, message_id=m.pk, source=ADMIN),
        )

    @admin.action(description="Restore deleted messages")
    def restore_messages(self, request, queryset):
        self._run(request, queryset, lambda m: message_restore(message=m, actor=request.user, source=ADMIN))

    def _run(self, request, queryset, service):
        done = 0
        for message in queryset.select_related("room", "author"):
            try:
                service(message)
                done += 1
            except (MessageRejected, RoomError) as refusal:
                self.message_user(request, f"Message {message.pk}: {refusal}", messages.WARNING)
        self.message_user(request, f"{done} message(s) done.", messages.SUCCESS)


class OpenFilter(admin.SimpleListFilter):
    """Open reports by default: the queue staff work through."""

    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("open", "Open"), ("resolved", "Resolved"), ("all", "All")]

    def choices(self, changelist):
        for lookup, title in self.lookup_choices:
            yield {
                "selected": (self.value() or "open") == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        value = self.value() or "open"
        if value == "all":
            return queryset
        return queryset.filter(resolved_at__isnull=value == "open")


def _report_action(resolution, description):
    @admin.action(description=description)
    def action(modeladmin, request, queryset):
        done = 0
        for report in queryset.filter(resolved_at__isnull=True).select_related(
            "message__room", "message__author"
        ):
            try:
                report_resolve(report=report, actor=request.user, resolution=resolution, source=ADMIN)
                done += 1
            except (MessageRejected, RoomError) as refusal:
                modeladmin.message_user(request, f"{report}: {refusal}", messages.WARNING)
        modeladmin.message_user(request, f"{description}: {done} report(s).", messages.SUCCESS)

    action.__name__ = f"resolve_{resolution}"
    return action


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "room",
        "message_excerpt",
        "message_author",
        "reporter",
        "reason",
        "created_at",
        "resolution",
    ]
    list_filter = [OpenFilter, "resolution", "created_at"]
    search_fields = ["reason", "message__body", "reporter__username", "message__author__username"]
    list_select_related = ["message__room", "message__author", "reporter"]
    raw_id_fields = ["message", "reporter", "resolved_by"]
    readonly_fields = ["message_in_context", "resolved_at", "resolved_by", "resolution"]
    actions = [
        _report_action(Report.Resolution.DELETED, "Resolve: delete the message"),
        _report_action(Report.Resolution.BANNED, "Resolve: ban the author from the room"),
        _report_action(Report.Resolution.DISMISSED, "Dismiss"),
    ]

    class Media:
        css = {"all": ["css/admin_reports.css"]}  # the context's styles: no inline style under the CSP

    def get_actions(self, request):
        return _without_hard_delete(super().get_actions(request))

    @admin.display(description="Room")
    def room(self, report):
        return report.message.room

    @admin.display(description="Message")
    def message_excerpt(self, report):
        return Truncator(report.message.body).chars(80)

    @admin.display(description="Author")
    def message_author(self, report):
        return report.message.author

    @admin.display(description="Message in context")
    def message_in_context(self, report):
        around = message_list_around(room=report.message.room, message_id=report.message_id, radius=5)
        return render_to_string(
            "admin/messages_app/message_context.html", {"messages_shown": around, "reported": report.message}
        )


@admin.register(ModerationAction)
class ModerationActionAdmin(admin.ModelAdmin):
    """The audit trail: read-only, filterable."""

    list_display = ["created_at", "action", "actor", "room", "target_user", "message_id", "source", "reason"]
    list_filter = ["action", "source", ("room", VisibleRoomFilter), "created_at"]
    search_fields = ["actor__username", "target_user__username", "reason"]
    list_select_related = ["actor", "room", "target_user"]
    paginator = CappedCountPaginator
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
