from django.db import models
from django.utils.translation import gettext_lazy as _


class SentReminder(models.Model):
    """A deadline reminder that has gone out. Its key is unique, so running the reminder job twice sends nothing new.

    The key names what the deadline belongs to: ``correction:<id>:…`` for a 补正 request, ``task:<id>:…`` for a
    workflow task (workflows.deadlines), then the kind and the due date.
    """

    class Kind(models.TextChoices):
        DUE_SOON = "due_soon", _("Deadline approaching")
        OVERDUE = "overdue", _("Deadline passed")
        EXPIRY = "expiry", _("Certificate expiring")
        ESCALATED = "escalated", _("Escalated to the supervising role")

    key = models.CharField(_("key"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    application = models.ForeignKey(
        "certification.Application",
        verbose_name=_("application"),
        on_delete=models.CASCADE,
        related_name="+",
        # Empty for a yearly review's step (``task:<id>:…`` of the yearly review flow) whose review has no application.
        null=True,
        blank=True,
    )
    deadline = models.DateField(_("deadline"))
    sent = models.DateTimeField(_("sent"), auto_now_add=True)

    class Meta:
        verbose_name = _("sent reminder")
        verbose_name_plural = _("sent reminders")
        ordering = ["-sent"]

    def __str__(self):
        return self.key
