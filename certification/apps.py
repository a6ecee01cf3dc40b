from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CertificationConfig(AppConfig):
    name = "certification"
    verbose_name = _("Certification")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Imported here because models are ready only now (Django's pattern for ready()), not to dodge a cycle.
        from axes.signals import user_locked_out

        # Register every Celery task in every process: the domain queues them by name (certification.domain.queue).
        from . import tasks  # noqa: F401
        from .domain.accounts import audit_lockout

        # axes' only hook for a lockout is this signal; the audit itself is a domain function.
        user_locked_out.connect(audit_lockout, dispatch_uid="certification.audit_lockout")
