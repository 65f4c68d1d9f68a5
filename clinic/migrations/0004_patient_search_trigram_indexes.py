"""Trigram indexes for the patient search on PostgreSQL.

`Patient.objects.search` filters with `icontains`, which Django writes on
PostgreSQL as `UPPER(col::text) LIKE UPPER('%word%')`: a pattern no btree
serves, so every search read every patient. A GIN index with `pg_trgm`'s
`gin_trgm_ops` over that same expression serves it, one per searched
column (the search ORs them, and PostgreSQL ORs the three index scans).

`fastupdate = off`: with it on, rows inserted since the last vacuum wait
in the index's pending list, which every search reads through; after a
bulk import of 190,000 patients (and no vacuum yet) a search read ~25 ms
of it per index scan instead of ~1 ms. An insert pays the index update
at once instead.

Created by a vendor-guarded step, like followup's exclusion constraints
(0004): SQLite, the embedded demo database, has neither `pg_trgm` nor GIN,
and its small clinics need no index for this. Reversing drops the indexes
and leaves the extension installed (other schemas may use it).
"""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

COLUMNS = {
    "patient_record_number_trgm": "record_number",
    "patient_given_name_trgm": "given_name",
    "patient_family_name_trgm": "family_name",
}


def add_trigram_indexes(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in COLUMNS.items():
        schema_editor.execute(
            f"CREATE INDEX {name} ON clinic_patient "
            f"USING gin ((UPPER({column}::text)) gin_trgm_ops) "
            "WITH (fastupdate = off)"
        )


def remove_trigram_indexes(
    apps: Apps, schema_editor: BaseDatabaseSchemaEditor
) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("clinic", "0003_clinic_admin_reads_audit_trail")]

    operations = [
        migrations.RunPython(add_trigram_indexes, remove_trigram_indexes),
    ]
