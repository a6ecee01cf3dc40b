"""The 转办 / 委派 / 加签 buttons of a task page: shown to the task's holder only, where the task allows them."""

from django.urls import reverse
from django.utils.translation import gettext as _

from certification.domain.handover import open_delegation

from .handover import decision_step, may_pass_on

_UNREAD = object()


def handover_links(user, task, latest_delegation=_UNREAD):
    """[(url, label)] of the handover actions `user` may start from `task` (the domain checks each again).

    `latest_delegation` is the task's latest 委派 when the caller has read it already (the task page has).
    """
    if not user.is_authenticated or task.owner_id != user.pk or not may_pass_on(task):
        return []
    delegation = open_delegation(task.pk) if latest_delegation is _UNREAD else latest_delegation
    if delegation is not None and delegation.status == delegation.Status.OPEN:
        return []
    links = [
        (reverse("work:task_transfer", args=[task.pk]), _("Transfer")),
        (reverse("work:task_delegate", args=[task.pk]), _("Delegate")),
    ]
    if decision_step(task) is not None:
        links.append((reverse("work:task_cosign", args=[task.pk]), _("Add a co-signer")))
    return links
