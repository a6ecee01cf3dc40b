from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class NotificationQuerySet(models.QuerySet):
    def unread(self):
        return self.filter(read__isnull=True)

    def email_failed(self):
        return self.filter(email_failed__isnull=False)


class Notification(models.Model):
    """An in-app message to one person (the bell). E-mail copies are sent by a Celery task."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recipient"), on_delete=models.CASCADE, related_name="notifications"
    )
    application = models.ForeignKey(
        "certification.Application", verbose_name=_("application"), on_delete=models.CASCADE, null=True, blank=True
    )
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("message"), blank=True)
    url = models.CharField(_("link"), max_length=300, blank=True)
    created = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    read = models.DateTimeField(_("read"), null=True, blank=True)
    # Set when the e-mail copy went out, so a task run twice sends it once.
    emailed = models.DateTimeField(_("e-mailed"), null=True, blank=True)
    # Failed e-mail attempts (the task retries with backoff); `email_failed` is set once it has given up.
    email_attempts = models.PositiveSmallIntegerField(_("failed e-mail attempts"), default=0)
    email_error = models.CharField(_("last e-mail error"), max_length=300, blank=True)
    email_failed = models.DateTimeField(_("e-mail given up"), null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created"]
        indexes = [models.Index(fields=["recipient", "read"], name="notification_unread_idx")]

    def __str__(self):
        return self.subject
