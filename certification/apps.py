from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CertificationConfig(AppConfig):
    name = "certification"
    verbose_name = _("Certification")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from axes.signals import user_locked_out

        user_locked_out.connect(_audit_lockout, dispatch_uid="certification.audit_lockout")


def _audit_lockout(sender, request=None, username=None, ip_address=None, **kwargs):
    # axes' only hook for a lockout is this signal; the audit itself is a domain function.
    from certification.domain.accounts import record_lockout

    record_lockout(username=username, ip_address=ip_address)
