"""On PostgreSQL the database itself refuses UPDATE, DELETE and TRUNCATE of the audit trail
(issue 12 item 3): the app runs as the table's owner, so privileges alone would not hold.

The one UPDATE allowed is the sealer's: setting `seq`, `prev_hash` and `hash` on a row whose
`hash` is still NULL, with every other column unchanged. TRUNCATE is refused unless the
session set `tandem.audit_allow_truncate = on` (the test suite's flush between transactional
tests does; a DB owner could as well, which is what the HMAC chain and the anchor catch).
No-op on SQLite (development).
"""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION clinic_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.hash IS NULL AND NEW.hash IS NOT NULL AND NEW.seq IS NOT NULL
       AND (to_jsonb(NEW) - 'seq' - 'prev_hash' - 'hash') = (to_jsonb(OLD) - 'seq' - 'prev_hash' - 'hash') THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'TRUNCATE' AND current_setting('tandem.audit_allow_truncate', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'the audit trail is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER clinic_audit_no_update_delete BEFORE UPDATE OR DELETE ON clinic_auditevent
    FOR EACH ROW EXECUTE FUNCTION clinic_audit_append_only();
CREATE TRIGGER clinic_audit_no_truncate BEFORE TRUNCATE ON clinic_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION clinic_audit_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS clinic_audit_no_truncate ON clinic_auditevent;
DROP TRIGGER IF EXISTS clinic_audit_no_update_delete ON clinic_auditevent;
DROP FUNCTION IF EXISTS clinic_audit_append_only();
"""


def create(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION, params=None)  # no placeholders: the body holds a literal %


def drop(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("clinic", "0006_audit_redact_free_text_and_reseal")]

    operations = [migrations.RunPython(create, drop)]
