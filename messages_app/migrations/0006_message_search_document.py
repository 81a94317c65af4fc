"""Search through a stored tsvector column instead of an expression index: PostgreSQL only.

With only the expression index, Postgres had no statistics of the words in bodies and
guessed that any word matches 0.5% of the rows. At a million messages it therefore
walked the primary key backwards to find the newest 21 matches of a rare word,
computing to_tsvector for 200,000 bodies (1.6 s; docs/performance.md). A stored
column gets statistics of its own (ANALYZE samples its words): a rare word goes
through the GIN index, a common one still walks the newest messages first.

The column is generated (Postgres keeps it equal to the body) and not a model field:
the SQLite fallback has no tsvector, so there this migration does nothing and
messages_app.search matches substrings instead. Adding a stored column rewrites the
table once; the index is then built CONCURRENTLY (so the migration is not atomic),
and the old expression index dropped the same way.
"""

from django.db import migrations

ADD_COLUMN = """
ALTER TABLE messages_app_message ADD COLUMN search_document tsvector
    GENERATED ALWAYS AS (to_tsvector('english'::regconfig, COALESCE(body, ''))) STORED
"""
CREATE_INDEX = (
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS message_search_document "
    "ON messages_app_message USING gin (search_document)"
)
DROP_OLD_INDEX = "DROP INDEX CONCURRENTLY IF EXISTS message_body_search"
ANALYZE = "ANALYZE messages_app_message"

DROP_INDEX = "DROP INDEX CONCURRENTLY IF EXISTS message_search_document"
DROP_COLUMN = "ALTER TABLE messages_app_message DROP COLUMN IF EXISTS search_document"
RESTORE_OLD_INDEX = (
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS message_body_search ON messages_app_message "
    "USING gin (to_tsvector('english'::regconfig, COALESCE(body, '')))"
)


def _run(schema_editor, statements):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def add_search_document(apps, schema_editor):
    _run(schema_editor, [ADD_COLUMN, CREATE_INDEX, DROP_OLD_INDEX, ANALYZE])


def remove_search_document(apps, schema_editor):
    _run(schema_editor, [RESTORE_OLD_INDEX, DROP_INDEX, DROP_COLUMN])


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("messages_app", "0005_message_client_id_changed_at"),
    ]

    operations = [
        migrations.RunPython(add_search_document, remove_search_document, elidable=False),
    ]
