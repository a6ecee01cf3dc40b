"""State changes of an application that are not steps of the workflow engine itself."""

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from certification.models import Application, Cluster

from . import audit
from .eligibility import check_eligibility
from .errors import NotEligible


def open_application(cluster, target_tier, *, by, year=None):
    """Open an application of `cluster` for `target_tier`, pinned to the standard version in force.

    Checks eligibility under a lock on the cluster row, so two leads clicking at once open one application.
    Side effects: an audit row. Starting the certification process is the workflow's job
    (`workflows.flows.CertificationFlow.start`), which calls this function.
    """
    with transaction.atomic():
        cluster = Cluster.objects.select_for_update().get(pk=cluster.pk)
        standard = check_eligibility(cluster, target_tier)
        try:
            with transaction.atomic():
                application = Application.objects.create(
                    cluster=cluster,
                    target_tier=target_tier,
                    standard=standard,
                    year=year or timezone.localdate().year,
                    opened_by=by,
                )
        except IntegrityError:
            raise NotEligible(_("%(cluster)s already has an open application.") % {"cluster": cluster.name}) from None
        audit.record(
            "application.opened",
            actor=by,
            application=application,
            obj=application,
            to_state=application.status,
            payload={"tier": target_tier, "standard": standard.pk, "standard_version": standard.version},
        )
    return application
