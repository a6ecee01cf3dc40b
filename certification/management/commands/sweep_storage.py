from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from certification.domain.retention import sweep_storage


class Command(BaseCommand):
    help = (
        "Remove failed and replaced imports' workbooks past their retention period, and stored files no row names. "
        "Beat does this daily when Celery runs."
    )

    def handle(self, *args, **options):
        result = sweep_storage()
        self.stdout.write(
            _("Import workbooks removed: %(workbooks)s; orphan files removed: %(orphans)s")
            % {"workbooks": len(result.workbooks_removed), "orphans": len(result.orphans_removed)}
        )
