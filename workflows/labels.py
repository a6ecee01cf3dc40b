"""Column headers viewflow's task and process lists derive from attribute names ("Brief", "Process summary",
"Active tasks", "Process id"): `pretty_name` of the name, out of the catalogue's reach. Giving each attribute a
`short_description` (what viewflow's list reads first) puts them through gettext. Called once from AppConfig.ready.
"""

from django.utils.translation import gettext_lazy as _
from viewflow.workflow.flow.views import dashboard
from viewflow.workflow.flow.views import list as task_lists
from viewflow.workflow.models import Process, Task

HEADERS = [
    (Task.brief.fget, _("Summary")),
    (Process.brief.fget, _("Summary")),
    (dashboard.DashboardTaskListView.process_summary, _("Application")),
    (task_lists.FlowArchiveListView.process_summary, _("Application")),
    (task_lists.WorkflowTaskListView.process_brief, _("Application")),
    (dashboard.DashboardProcessListView.process_id, _("Number")),
    (dashboard.DashboardProcessListView.active_tasks, _("Open tasks")),
]


def label_viewflow_columns():
    for attribute, header in HEADERS:
        attribute.short_description = header
