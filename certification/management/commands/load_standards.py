"""Load the shipped standards (fixtures/standards/*.json) and publish them. Safe to run again."""

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Max

from certification.domain.standards import StandardRejected, describe_path, load_standard
from certification.models import Indicator, Standard

DEFAULT_DIRECTORY = Path(settings.BASE_DIR) / "fixtures" / "standards"


class Command(BaseCommand):
    help = "Load and publish the standards in fixtures/standards/; a tier whose version is already there is skipped."

    def add_arguments(self, parser):
        parser.add_argument("--directory", type=Path, default=DEFAULT_DIRECTORY, help="Folder of standard JSON files.")

    def handle(self, *args, directory, **options):
        paths = sorted(directory.glob("*.json"))
        if not paths:
            raise CommandError(f"No standard files (*.json) in {directory}")
        for path in paths:
            data = self._read(path)
            tier, version = data.get("tier"), data.get("version")
            if Standard.objects.filter(tier=tier, version=version).exists():
                self.stdout.write(f"{path.name}: {tier} v{version} already exists, skipped")
                continue
            newest = Standard.objects.filter(tier=tier).aggregate(v=Max("version"))["v"]
            if newest is not None and version is not None and newest > version:
                # Publishing an older version would retire the newer one a bureau published.
                self.stdout.write(f"{path.name}: {tier} has a newer version v{newest}, skipped")
                continue
            try:
                standard = load_standard(data, publish=True)
            except StandardRejected as rejected:
                lines = [f"  {describe_path(data, p.path) or '-'}: {p.message}" for p in rejected.problems]
                raise CommandError(f"{path.name} is not a valid standard:\n" + "\n".join(lines)) from None
            count = Indicator.objects.filter(dimension__standard=standard).count()
            self.stdout.write(
                self.style.SUCCESS(
                    f"{path.name}: {standard.tier} v{standard.version} loaded and published ({count} indicators)"
                )
            )

    def _read(self, path):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise CommandError(f"{path.name}: cannot read JSON: {error}") from None
        if not isinstance(data, dict):
            raise CommandError(f"{path.name}: a standard file holds one JSON object")
        return data
