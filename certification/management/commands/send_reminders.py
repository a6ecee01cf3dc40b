from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from certification.domain.notify import send_deadline_reminders


class Command(BaseCommand):
    help = "Send deadline reminders and overdue notices that have not been sent yet. Safe to run twice."

    def handle(self, *args, **options):
        sent = send_deadline_reminders()
        self.stdout.write(_("Reminders sent: %(count)s") % {"count": sent})
