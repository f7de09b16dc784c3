from django.db import migrations

# Serves the records page's full-text search (screening.queries.search_records), whose
# SearchVector("title", "abstract", config="english") compiles to this same expression.
CREATE = """
CREATE INDEX IF NOT EXISTS record_fulltext_idx ON screening_record USING gin (
    to_tsvector('english'::regconfig,
                COALESCE(title, '') || ' ' || COALESCE(abstract, ''))
)
"""
DROP = "DROP INDEX IF EXISTS record_fulltext_idx"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("screening", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
