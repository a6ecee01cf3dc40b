from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from django.utils.translation import gettext as _

from certification.domain import audit
from certification.models import AuditAnchor, AuditEvent


def _both(render):
    """The same message in Chinese and in English, for operators reading either."""
    with translation.override("zh-hans"):
        chinese = render()
    with translation.override("en"):
        english = render()
    return chinese if chinese == english else f"{chinese} / {english}"


class Command(BaseCommand):
    help = (
        "Verify the audit trail: every chain's keyed hashes, the anchors and the latest anchor file. "
        "Exits non-zero when anything is wrong."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--anchor", action="store_true", help="After a successful verification, seal and write a new anchor."
        )

    def handle(self, *args, anchor=False, **options):
        problems = audit.verify()
        if problems:
            for problem in problems:
                self.stderr.write(_both(lambda problem=problem: str(problem)))
            raise CommandError(
                _both(
                    lambda: (
                        _("The audit trail failed verification: %(count)s problem(s) found.") % {"count": len(problems)}
                    )
                )
            )
        if anchor:
            try:
                audit.anchor()
            except audit.AuditTampered as refused:
                found = refused.problems
                raise CommandError(_both(lambda: "; ".join(str(problem) for problem in found))) from None
        events, anchors = AuditEvent.objects.count(), AuditAnchor.objects.count()
        self.stdout.write(
            _both(
                lambda: (
                    _("The audit trail is intact: %(events)s rows, %(anchors)s anchors.")
                    % {"events": events, "anchors": anchors}
                )
            )
        )
