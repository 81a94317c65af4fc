"""The full-text search index on message bodies: PostgreSQL only.

A GIN index on to_tsvector('english', COALESCE(body, '')), built from the same
Django expression that messages_app.search uses in queries, so the two match
and Postgres uses the index. Not declared in Message.Meta.indexes: the SQLite
fallback has no GIN indexes, and this migration does nothing there.

Built CONCURRENTLY (so the migration is not atomic): on a large message table a
plain CREATE INDEX would block new messages until it finished.
"""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import migrations

INDEX = GinIndex(SearchVector("body", config="english"), name="message_body_search")


def create_search_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.add_index(apps.get_model("messages_app", "Message"), INDEX, concurrently=True)


def drop_search_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.remove_index(apps.get_model("messages_app", "Message"), INDEX, concurrently=True)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("messages_app", "0003_reports_and_moderation_actions"),
    ]

    operations = [
        migrations.RunPython(create_search_index, drop_search_index, elidable=False),
    ]
