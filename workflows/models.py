"""The certification process: viewflow's Process, one per Application, which it holds as its artifact."""

from django.contrib.contenttypes.fields import GenericRelation
from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.models import Process

from certification.models import Application


class CertificationProcess(Process):
    """A proxy: the business data lives in certification models; the process only points at its application."""

    class Meta:
        proxy = True
        verbose_name = _("certification process")
        verbose_name_plural = _("certification processes")

    @property
    def application(self):
        return self.artifact


class WorkApplication(Application):
    """An application seen from the work pages: with `processes`, the join from an application to the processes
    that hold it as their artifact (and on to their tasks), so a queue reads the user's open tasks and their
    applications in one statement (`queues.with_open_tasks`).

    A proxy: no table, and deleting an application does not go through this relation.
    """

    processes = GenericRelation(
        "viewflow.Process", content_type_field="artifact_content_type", object_id_field="artifact_object_id"
    )

    class Meta:
        proxy = True
        verbose_name = _("application")
        verbose_name_plural = _("applications")


def process_for(application):
    """The certification process of `application`, or None (applications opened outside the workflow)."""
    content_type = ContentType.objects.get_for_model(Application)
    return (
        CertificationProcess.objects.filter(artifact_content_type=content_type, artifact_object_id=application.pk)
        .order_by("-pk")
        .first()
    )
