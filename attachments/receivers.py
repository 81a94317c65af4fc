"""How attachments hooks into messages_app, which may not import it: a message part
(its files, in the message's fragment) and the deletion signal."""

from attachments import selectors, services
from messages_app.parts import MessagePart, message_part_register
from messages_app.signals import message_deleted

FILES_PART = MessagePart(
    template="attachments/partials/message_files.html",
    prefetch="attachments",
    prepare=services.attachments_prepare,
    save=services.attachments_save,
    discard=services.attachments_discard,
    text=services.attachment_names,
    export_key="attachments",
    export=selectors.attachments_export,
    export_template="attachments/export/message_files.html",
)


def _message_deleted(sender, message, **kwargs):
    services.attachments_delete_for_message(message)


def connect():
    message_part_register(FILES_PART)
    message_deleted.connect(_message_deleted, dispatch_uid="attachments.message_deleted")
