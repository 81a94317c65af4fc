"""Search finds a message by the text of its parts too (the names of its files).

`parts_text` holds that text, one name per line. The stored tsvector (migration 0006)
becomes the body's words plus the names' words: Postgres reads "quarterly-report.pdf"
as one file-name token, so each name is also given split at - and _ (finds
"report.pdf") and at every non-alphanumeric character (finds "report", "pdf").
Postgres 15 cannot change a generated column's expression, so the column is dropped
(with its index) and added again: one rewrite of the table, then the index is built
CONCURRENTLY, as in 0006. Elsewhere (SQLite) search matches substrings of both
columns and only the field is added.
"""

from django.db import migrations, models

SEARCHED_TEXT = """
    COALESCE(body, '') || ' ' || parts_text
    || ' ' || regexp_replace(parts_text, '[-_]+', ' ', 'g')
    || ' ' || regexp_replace(parts_text, '[^[:alnum:]]+', ' ', 'g')
"""
ADD_COLUMN = f"""
ALTER TABLE messages_app_message ADD COLUMN search_document tsvector
    GENERATED ALWAYS AS (to_tsvector('english'::regconfig, {SEARCHED_TEXT})) STORED
"""
OLD_COLUMN = """
ALTER TABLE messages_app_message ADD COLUMN search_document tsvector
    GENERATED ALWAYS AS (to_tsvector('english'::regconfig, COALESCE(body, ''))) STORED
"""
DROP_COLUMN = "ALTER TABLE messages_app_message DROP COLUMN IF EXISTS search_document"
CREATE_INDEX = (
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS message_search_document "
    "ON messages_app_message USING gin (search_document)"
)
ANALYZE = "ANALYZE messages_app_message"


def _run(schema_editor, statements):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def search_parts_text(apps, schema_editor):
    _run(schema_editor, [DROP_COLUMN, ADD_COLUMN, CREATE_INDEX, ANALYZE])


def search_body_only(apps, schema_editor):
    _run(schema_editor, [DROP_COLUMN, OLD_COLUMN, CREATE_INDEX, ANALYZE])


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("messages_app", "0006_message_search_document"),
    ]

    operations = [
        migrations.AddField(
            model_name="message",
            name="parts_text",
            field=models.TextField(blank=True, db_default="", default="", editable=False),
        ),
        migrations.RunPython(search_parts_text, search_body_only, elidable=False),
    ]
