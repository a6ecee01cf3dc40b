"""The side panel of a task's pages (project/templates/viewflow/workflow/process_data.html): the rows of the
process's business object, the application or the yearly review. Viewflow lists the process's own fields first,
whose state it words as a task's; the panel words that state itself (`LabelledProcess.state_label`)."""

from django import template
from viewflow.utils import get_object_data

register = template.Library()


@register.simple_tag
def artifact_rows(process):
    """(field, label, value) for each field of the process's artifact; none without one."""
    artifact = process.artifact
    return [] if artifact is None else list(get_object_data(artifact))
