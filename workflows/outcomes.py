"""What a decision task recorded in its data ("outcome"): the task views write it, the flow's gates read it."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Outcome(models.TextChoices):
    PASSED = "passed", _("Passed")
    RETURNED = "returned", _("Returned for correction")
    APPROVED = "approved", _("Approved")
    SENT_BACK = "sent_back", _("Sent back")
