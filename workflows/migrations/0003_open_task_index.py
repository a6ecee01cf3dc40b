"""An index of viewflow's open tasks by node and age (viewflow's table, so raw SQL; PostgreSQL and SQLite both
take a partial index). The queues read the user's open tasks of some nodes (the approval queue: the decision
nodes) oldest first; without it, every open task of every node was read and filtered (`workflows.queues`)."""

from django.db import migrations

OPEN_TASK_INDEX = (
    "CREATE INDEX IF NOT EXISTS workflows_open_task_node_created ON viewflow_task (flow_task, created) "
    "WHERE status IN ('NEW', 'ASSIGNED')"
)


class Migration(migrations.Migration):
    dependencies = [
        ("workflows", "0002_work_application_proxy"),
        ("viewflow", "0015_task_scheduled"),
    ]

    operations = [
        migrations.RunSQL(OPEN_TASK_INDEX, reverse_sql="DROP INDEX IF EXISTS workflows_open_task_node_created"),
    ]
