"""The admin of rooms under moderation, messages, reports and the audit trail."""

from messages_app.admin import messages, rooms  # noqa: F401  (each registers its models)
