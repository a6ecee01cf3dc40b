from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CertificationConfig(AppConfig):
    name = "certification"
    verbose_name = _("Certification")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Register every Celery task in every process: the domain queues them by name (certification.domain.queue).
        from . import tasks  # noqa: F401
