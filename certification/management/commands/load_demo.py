"""Load the standards and the demo data, then print the demo logins. Demo mode only."""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from certification.domain.demo import DEMO_PASSWORD, load_demo_data
from certification.errors import DomainError
from certification.models import Role

DEMO_URL = "http://127.0.0.1:8000/"


class Command(BaseCommand):
    help = "Load the published standards and the demo regions, clusters, schools and users (DEMO_MODE only)."

    def handle(self, *args, **options):
        if not settings.DEMO_MODE:
            raise CommandError(
                "load_demo refuses to run: DEMO_MODE is off. The demo users share one published password, "
                "so they may exist only on a demo machine (DEBUG=1, DEMO_MODE=1)."
            )
        call_command("load_standards", stdout=self.stdout, stderr=self.stderr)
        try:
            summary, logins = load_demo_data()
        except DomainError as error:
            raise CommandError(error.message) from None
        if summary.total_created:
            created = ", ".join(f"{count} {kind}" for kind, count in sorted(summary.created.items()))
            self.stdout.write(f"Demo data loaded: {created}.")
        else:
            self.stdout.write("Demo data already loaded; nothing changed.")
        self.stdout.write(self._table(logins))
        call_command("sample_workbooks", stdout=self.stdout)  # filled workbooks for the demo lead to upload
        self.stdout.write(f"\nOpen {DEMO_URL} and log in with any username above.")

    def _table(self, logins):
        labels = dict(Role.choices)
        rows = [("username", "role", "scope", "password")]
        rows += [(login.username, str(labels[login.role]), login.scope or "-", DEMO_PASSWORD) for login in logins]
        widths = [max(_width(row[column]) for row in rows) for column in range(4)]
        lines = ["", "Demo logins:"]
        for number, row in enumerate(rows):
            lines.append("  ".join(cell + " " * (widths[i] - _width(cell)) for i, cell in enumerate(row)).rstrip())
            if number == 0:
                lines.append("  ".join("-" * width for width in widths))
        return "\n".join(lines)


def _width(text):
    # CJK characters take two columns in a terminal; count them so the table lines up.
    return sum(2 if ord(char) > 0x2E7F else 1 for char in text)
