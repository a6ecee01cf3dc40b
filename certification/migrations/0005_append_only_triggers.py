# On PostgreSQL the database itself refuses UPDATE and DELETE of audit rows and anchors, and any change to a
# published or retired standard and its dimensions, indicators and evidence requirements (retiring a published
# standard, a change of status alone, stays allowed). The models refuse the same in Python; these triggers also stop
# raw SQL and other clients. SQLite keeps the Python checks only. (TRUNCATE is left to privileges: Django's test
# flush needs it, and a truncated trail is found by the anchors.)

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION certification_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% of a row of % refused: the table is append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END
$$;

CREATE TRIGGER certification_auditevent_append_only BEFORE UPDATE OR DELETE ON certification_auditevent
    FOR EACH ROW EXECUTE FUNCTION certification_refuse_change();
CREATE TRIGGER certification_auditanchor_append_only BEFORE UPDATE OR DELETE ON certification_auditanchor
    FOR EACH ROW EXECUTE FUNCTION certification_refuse_change();

CREATE OR REPLACE FUNCTION certification_refuse_if_frozen(standard_status text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF standard_status IN ('published', 'retired') THEN
        RAISE EXCEPTION 'a % standard cannot be changed; make a new version instead', standard_status
            USING ERRCODE = 'restrict_violation';
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION certification_standard_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.status = 'published' AND NEW.status = 'retired'
            AND to_jsonb(NEW) - 'status' = to_jsonb(OLD) - 'status' THEN
        RETURN NEW;
    END IF;
    PERFORM certification_refuse_if_frozen(OLD.status);
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE FUNCTION certification_dimension_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM certification_refuse_if_frozen(
        (SELECT s.status FROM certification_standard s WHERE s.id = OLD.standard_id));
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE FUNCTION certification_indicator_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM certification_refuse_if_frozen(
        (SELECT s.status FROM certification_standard s
            JOIN certification_dimension d ON d.standard_id = s.id WHERE d.id = OLD.dimension_id));
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE FUNCTION certification_evidencerequirement_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM certification_refuse_if_frozen(
        (SELECT s.status FROM certification_standard s
            JOIN certification_dimension d ON d.standard_id = s.id
            JOIN certification_indicator i ON i.dimension_id = d.id WHERE i.id = OLD.indicator_id));
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER certification_standard_frozen BEFORE UPDATE OR DELETE ON certification_standard
    FOR EACH ROW EXECUTE FUNCTION certification_standard_frozen();
CREATE TRIGGER certification_dimension_frozen BEFORE UPDATE OR DELETE ON certification_dimension
    FOR EACH ROW EXECUTE FUNCTION certification_dimension_frozen();
CREATE TRIGGER certification_indicator_frozen BEFORE UPDATE OR DELETE ON certification_indicator
    FOR EACH ROW EXECUTE FUNCTION certification_indicator_frozen();
CREATE TRIGGER certification_evidencerequirement_frozen BEFORE UPDATE OR DELETE ON certification_evidencerequirement
    FOR EACH ROW EXECUTE FUNCTION certification_evidencerequirement_frozen();
"""

DROP = """
DROP TRIGGER IF EXISTS certification_evidencerequirement_frozen ON certification_evidencerequirement;
DROP TRIGGER IF EXISTS certification_indicator_frozen ON certification_indicator;
DROP TRIGGER IF EXISTS certification_dimension_frozen ON certification_dimension;
DROP TRIGGER IF EXISTS certification_standard_frozen ON certification_standard;
DROP FUNCTION IF EXISTS certification_evidencerequirement_frozen();
DROP FUNCTION IF EXISTS certification_indicator_frozen();
DROP FUNCTION IF EXISTS certification_dimension_frozen();
DROP FUNCTION IF EXISTS certification_standard_frozen();
DROP FUNCTION IF EXISTS certification_refuse_if_frozen(text);
DROP TRIGGER IF EXISTS certification_auditanchor_append_only ON certification_auditanchor;
DROP TRIGGER IF EXISTS certification_auditevent_append_only ON certification_auditevent;
DROP FUNCTION IF EXISTS certification_refuse_change();
"""


def _run_on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            # No parameters: the SQL's own % signs are RAISE placeholders, not query parameters.
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("certification", "0004_audit_chains_keyed_and_anchored"),
    ]

    operations = [
        migrations.RunPython(_run_on_postgresql(CREATE), _run_on_postgresql(DROP)),
    ]
