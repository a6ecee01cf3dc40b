from django.core.management.base import BaseCommand

from certification.domain.roles import sync_roles


class Command(BaseCommand):
    help = "Recompute role groups and application object permissions from role grants and evaluator assignments."

    def handle(self, *args, **options):
        summary = sync_roles()
        self.stdout.write(
            "groups={groups} memberships +{memberships_added} -{memberships_removed} "
            "object permissions +{permissions_added} -{permissions_removed}".format(**summary)
        )
