"""Bulk work for offices: one panel for several applications at once, each decided on its own.

Each application runs in its own process lock and savepoint, through the same domain function as the single task
page (`certification.domain.panel.assign_evaluators`: the office's scope, at least three evaluators, conflicts of
interest); a refusal leaves that application untouched and is listed with its reason. There is no bulk approval:
a leader decides each application on its own page.
"""

from django.db import transaction
from django.utils.translation import gettext as _
from viewflow.workflow.status import STATUS

from certification.domain import panel
from certification.errors import DomainError, IllegalTransition

from .flows import CertificationFlow


def assign_panel_to_many(applications, evaluators, panel_lead, *, by):
    """Assign the same panel to each application awaiting evaluators. Returns [(application, refusal or None)]."""
    node = CertificationFlow.assign_evaluators
    results = []
    for application in applications:
        try:
            with transaction.atomic():
                task = (
                    CertificationFlow.task_class._default_manager.filter(
                        process__artifact_object_id=application.pk,
                        process__flow_class=CertificationFlow,
                        flow_task=node,
                        status__in=[STATUS.NEW, STATUS.ASSIGNED],
                    )
                    .order_by("pk")
                    .first()
                )
                if task is None:
                    raise IllegalTransition(_("This application is not waiting for its evaluators."))
                with CertificationFlow.lock(task.process_id):
                    task = type(task)._default_manager.select_for_update(of=("self",)).get(pk=task.pk)
                    activation = node.activation_class(task)
                    if task.status == STATUS.NEW:
                        if not node.can_assign(by, task):
                            raise IllegalTransition(_("You may not take this application's assignment task."))
                        activation.assign(by)
                    elif task.owner_id != by.pk:
                        raise IllegalTransition(_("This task has been taken by %(owner)s.") % {"owner": task.owner})
                    panel.assign_evaluators(application, list(evaluators), panel_lead, by=by)
                    activation.start(None)
                    activation.execute()
            results.append((application, None))
        except DomainError as refusal:
            results.append((application, refusal.message))
    return results
