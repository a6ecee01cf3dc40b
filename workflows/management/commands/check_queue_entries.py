from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _

from workflows import queue_entries


class Command(BaseCommand):
    help = (
        "Compare the queues' entries with the open workflow tasks they copy and list every difference; with "
        "--repair, rewrite every entry from the tasks. Exits with an error when they differ (and were not repaired)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--repair", action="store_true", help="Rewrite every entry from the tasks.")

    def handle(self, *args, repair=False, **options):
        found = queue_entries.mismatches()
        for line in found:
            self.stdout.write(line)
        if not found:
            self.stdout.write(_("Queue entries agree with the open tasks."))
            return
        if not repair:
            raise CommandError(_("Queue entries differ from the open tasks: %(count)s") % {"count": len(found)})
        with transaction.atomic():
            count = queue_entries.rebuild()
        self.stdout.write(_("Queue entries rewritten: %(count)s") % {"count": count})
