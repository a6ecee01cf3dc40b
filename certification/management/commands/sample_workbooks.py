"""Write a cluster's filled sample workbooks (all seven data sets) as .xlsx files, for the demo."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from certification.datasets.base import school_year_of
from certification.domain.samples import OUTCOMES, write_sample_workbooks
from certification.models import Cluster

DEFAULT_CLUSTER = "天平-湖南学区"


class Command(BaseCommand):
    help = (
        "Write filled sample workbooks of the seven data sets for a cluster's schools, ready to upload "
        "(outcome 'pass': every computed indicator passes where the schools allow; 'fail': a few fail near the threshold)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--cluster", default=DEFAULT_CLUSTER, help=f"Cluster name (default {DEFAULT_CLUSTER}).")
        parser.add_argument(
            "--year", type=int, default=None, help="School year of the data (default: the last completed one)."
        )
        parser.add_argument("--outcome", choices=OUTCOMES, default="pass")
        parser.add_argument(
            "--out", type=Path, default=None, help="Folder (default MEDIA_ROOT/demo-workbooks/<cluster>/)."
        )

    def handle(self, *args, cluster, year, outcome, out, **options):
        clusters = list(Cluster.objects.filter(name=cluster))
        if not clusters:
            raise CommandError(f"No cluster is called {cluster!r}. Load the demo first (manage.py load_demo).")
        if len(clusters) > 1:
            raise CommandError(f"More than one cluster is called {cluster!r}.")
        year = year or school_year_of(timezone.localdate()) - 1
        directory, paths = write_sample_workbooks(clusters[0], year=year, outcome=outcome, directory=out)
        self.stdout.write(f"\nSample workbooks of {cluster} for {year} ({outcome}) written to {directory}:")
        for path in paths:
            self.stdout.write(f"  {path.name}")
