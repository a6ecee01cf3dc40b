"""The database keeps the queues' entries in step with the tasks (`workflows.queue_entries`): triggers on viewflow's
task table and on the due dates, one set per dialect.

Until now Python receivers did it, one extra statement per task written (a transition paid three), and every
UPDATE or `bulk_create` that sends no signal had to remember to call `refresh`. A trigger runs inside the statement
that writes the task, whoever writes it: viewflow's activations, the hand-overs' UPDATEs, bulk-made data, a
console session.

- A human task inserted or updated while open (NEW, ASSIGNED, STARTED) on an application of the certification
  flow: its entry is written from it (insert, or update of every copied field). Updated to any other status: its
  entry is removed.
- A due date inserted, changed or removed: copied onto its task's entry.

The flow's reference and the application's content type are literals here, as in 0007: a migration must not
depend on today's classes. `tests/workflows/test_queue_entries.py` compares them with the flow's.
"""

from django.db import migrations

ENTRY_PROCESS = """
    FROM viewflow_process process
    JOIN django_content_type content_type ON content_type.id = process.artifact_content_type_id
    WHERE process.id = NEW.process_id
      AND process.flow_class = 'workflows/flows.CertificationFlow'
      AND content_type.app_label = 'certification' AND content_type.model = 'application'
      AND process.artifact_object_id IS NOT NULL
"""

UPSERT_ENTRY = f"""
    INSERT INTO workflows_queueentry
        (task_id, application_id, flow_task, status, owner_id, owner_permission, owner_permission_obj_pk, created, due)
    SELECT NEW.id, process.artifact_object_id, NEW.flow_task, NEW.status, NEW.owner_id, NEW.owner_permission,
           NEW.owner_permission_obj_pk, NEW.created,
           (SELECT deadline.due FROM workflows_taskdeadline deadline WHERE deadline.task_id = NEW.id)
    {ENTRY_PROCESS}
    ON CONFLICT (task_id) DO UPDATE SET
        application_id = excluded.application_id, flow_task = excluded.flow_task, status = excluded.status,
        owner_id = excluded.owner_id, owner_permission = excluded.owner_permission,
        owner_permission_obj_pk = excluded.owner_permission_obj_pk, created = excluded.created, due = excluded.due;
"""

OPEN = "('NEW', 'ASSIGNED', 'STARTED')"

POSTGRESQL = [
    f"""
CREATE FUNCTION workflows_queue_entry_of_task() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status IN {OPEN} THEN
        {UPSERT_ENTRY}
    ELSIF TG_OP = 'UPDATE' THEN
        DELETE FROM workflows_queueentry WHERE task_id = NEW.id;
    END IF;
    RETURN NULL;
END
$$""",
    """
CREATE TRIGGER workflows_queue_entry_of_task AFTER INSERT OR UPDATE ON viewflow_task
FOR EACH ROW WHEN (NEW.flow_task_type = 'HUMAN') EXECUTE FUNCTION workflows_queue_entry_of_task()""",
    """
CREATE FUNCTION workflows_queue_entry_due() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        UPDATE workflows_queueentry SET due = NULL WHERE task_id = OLD.task_id;
    ELSE
        UPDATE workflows_queueentry SET due = NEW.due WHERE task_id = NEW.task_id;
    END IF;
    RETURN NULL;
END
$$""",
    """
CREATE TRIGGER workflows_queue_entry_due AFTER INSERT OR UPDATE OR DELETE ON workflows_taskdeadline
FOR EACH ROW EXECUTE FUNCTION workflows_queue_entry_due()""",
]

POSTGRESQL_REVERSE = [
    "DROP TRIGGER workflows_queue_entry_due ON workflows_taskdeadline",
    "DROP FUNCTION workflows_queue_entry_due()",
    "DROP TRIGGER workflows_queue_entry_of_task ON viewflow_task",
    "DROP FUNCTION workflows_queue_entry_of_task()",
]

# SQLite has no trigger functions: one trigger per event, the condition in WHEN. The upsert's SELECT has a WHERE,
# which SQLite needs to tell its ON CONFLICT from a join's.
SQLITE = [
    f"""
CREATE TRIGGER workflows_queue_entry_task_inserted AFTER INSERT ON viewflow_task
WHEN NEW.flow_task_type = 'HUMAN' AND NEW.status IN {OPEN}
BEGIN {UPSERT_ENTRY} END""",
    f"""
CREATE TRIGGER workflows_queue_entry_task_open AFTER UPDATE ON viewflow_task
WHEN NEW.flow_task_type = 'HUMAN' AND NEW.status IN {OPEN}
BEGIN {UPSERT_ENTRY} END""",
    f"""
CREATE TRIGGER workflows_queue_entry_task_closed AFTER UPDATE ON viewflow_task
WHEN NEW.flow_task_type = 'HUMAN' AND NEW.status NOT IN {OPEN}
BEGIN DELETE FROM workflows_queueentry WHERE task_id = NEW.id; END""",
    """
CREATE TRIGGER workflows_queue_entry_due_inserted AFTER INSERT ON workflows_taskdeadline
BEGIN UPDATE workflows_queueentry SET due = NEW.due WHERE task_id = NEW.task_id; END""",
    """
CREATE TRIGGER workflows_queue_entry_due_changed AFTER UPDATE OF due ON workflows_taskdeadline
BEGIN UPDATE workflows_queueentry SET due = NEW.due WHERE task_id = NEW.task_id; END""",
    """
CREATE TRIGGER workflows_queue_entry_due_removed AFTER DELETE ON workflows_taskdeadline
BEGIN UPDATE workflows_queueentry SET due = NULL WHERE task_id = OLD.task_id; END""",
]

SQLITE_REVERSE = [
    f"DROP TRIGGER {name}"
    for name in (
        "workflows_queue_entry_task_inserted",
        "workflows_queue_entry_task_open",
        "workflows_queue_entry_task_closed",
        "workflows_queue_entry_due_inserted",
        "workflows_queue_entry_due_changed",
        "workflows_queue_entry_due_removed",
    )
]

STATEMENTS = {"postgresql": (POSTGRESQL, POSTGRESQL_REVERSE), "sqlite": (SQLITE, SQLITE_REVERSE)}


def _run(schema_editor, reverse):
    vendor = schema_editor.connection.vendor
    if vendor not in STATEMENTS:
        raise RuntimeError(f"The queue entries' triggers are written for PostgreSQL and SQLite, not {vendor}.")
    for statement in STATEMENTS[vendor][reverse]:
        schema_editor.execute(statement)


def create_triggers(apps, schema_editor):
    _run(schema_editor, reverse=False)


def drop_triggers(apps, schema_editor):
    _run(schema_editor, reverse=True)


class Migration(migrations.Migration):
    dependencies = [
        ("workflows", "0007_fill_queue_entries"),
    ]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
