from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from workflows.engine import fire_due_timers


class Command(BaseCommand):
    help = "Fire the workflow timers that are due (公示 ends). Beat does this every minute when Celery runs."

    def handle(self, *args, **options):
        fired = fire_due_timers()
        self.stdout.write(_("Due timers fired: %(count)s") % {"count": _count(fired)})


def _count(fired):
    if isinstance(fired, int):
        return fired
    return len(fired) if fired is not None else 0
