"""Every open human task of the certification flow gets its queue entry (`workflows.queue_entries`), in one
INSERT … SELECT: from here on the tasks' saves keep the entries in step."""

from django.db import migrations

# What `queue_entries._open_tasks` selects, in SQL: the model classes of today may not match this migration's.
FILL = """
INSERT INTO workflows_queueentry
    (task_id, application_id, flow_task, status, owner_id, owner_permission, owner_permission_obj_pk, created, due)
SELECT task.id, process.artifact_object_id, task.flow_task, task.status, task.owner_id, task.owner_permission,
       task.owner_permission_obj_pk, task.created, deadline.due
FROM viewflow_task task
JOIN viewflow_process process ON process.id = task.process_id
JOIN django_content_type content_type ON content_type.id = process.artifact_content_type_id
JOIN certification_application application ON application.id = process.artifact_object_id
LEFT JOIN workflows_taskdeadline deadline ON deadline.task_id = task.id
WHERE process.flow_class = 'workflows/flows.CertificationFlow'
  AND content_type.app_label = 'certification' AND content_type.model = 'application'
  AND task.flow_task_type = 'HUMAN' AND task.status IN ('NEW', 'ASSIGNED', 'STARTED')
"""


class Migration(migrations.Migration):
    dependencies = [
        ("workflows", "0006_queue_entry"),
    ]

    operations = [migrations.RunSQL(FILL, reverse_sql="DELETE FROM workflows_queueentry")]
