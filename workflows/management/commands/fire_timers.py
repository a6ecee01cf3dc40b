from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from certification.domain.notify import send_deadline_reminders
from certification.domain.tiers import run_tier_timers
from certification.tasks import recover_interrupted_work
from workflows.engine import fire_due_timers, send_task_deadline_notices


class Command(BaseCommand):
    help = (
        "Fire the workflow timers that are due (公示 ends), send the deadline reminders, overdue notices and "
        "escalations not sent yet, restart imports and exports whose worker died, end expired certificates and send "
        "the expiry reminders. Beat does all of it when Celery runs. Safe to run twice."
    )

    def handle(self, *args, **options):
        fired = fire_due_timers()
        self.stdout.write(_("Due timers fired: %(count)s") % {"count": _count(fired)})
        notices = send_task_deadline_notices() + send_deadline_reminders()
        self.stdout.write(_("Deadline notices sent: %(count)s") % {"count": notices})
        # Without beat this command is also what recovers imports and exports whose worker died.
        restarted, failed = recover_interrupted_work()
        self.stdout.write(
            _("Interrupted imports and exports: %(restarted)s restarted, %(failed)s failed.")
            % {"restarted": restarted, "failed": failed}
        )
        expired, reminded = run_tier_timers()
        self.stdout.write(
            _("Certificates expired: %(expired)s; expiry reminders sent: %(reminded)s")
            % {"expired": expired, "reminded": reminded}
        )


def _count(fired):
    if isinstance(fired, int):
        return fired
    return len(fired) if fired is not None else 0
