"""Benchmark: importing a 50,000-row teacher rotation roster next to openpyxl alone reading the same cells.

"ours" is the whole import as a lead runs it: `start_import` checks and stores the workbook, and the Celery task
(eager, in-process) runs the pre-parse checks (zip, DTD, row count), streams the sheet a row at a time (python-calamine-plus), validates
every row and writes the valid ones in batches of 2,000 as it goes, then keeps the workbook as evidence. Its
tracemalloc run is a re-import, which also replaces the 50,000 rows of the first.
"openpyxl" is `load_workbook(read_only=True, data_only=True)` iterating every value of the sheet once, doing nothing
with it: the floor any importer built on openpyxl stands on.

The roster (天平-湖南学区's schools, seed 003) is written once with openpyxl's write-only mode to bench/results/; it
has no <dimension> element, as any streamed workbook. ``python -m bench.abab bench.import_roster`` alternates the
two cases in fresh processes (see bench/abab.py).
"""

import datetime
import os
import random
from pathlib import Path

ROWS = int(os.environ.get("BENCH_ROWS", "50000"))  # the roster of issue 11; other sizes show memory is flat
CASES = ["ours", "openpyxl"]
GOAL = 1.0  # issue 11: faster than openpyxl read-only alone
RESULTS = Path(__file__).resolve().parent / "results"
# Seed 003: the member units of 天平-湖南学区 that teach (the two community schools do not rotate teachers).
PRIMARY = ["高安路一小", "建襄小学", "向阳小学", "世界小学", "爱菊小学", "一中心小学"]
JUNIOR = ["位育初级中学", "市二初级中学", "五十四中学"]
NINE_YEAR = ["位育实验学校"]


def roster_path():
    """The 50,000-row roster, written on first use."""
    from openpyxl import Workbook

    from certification.datasets import DATASETS

    path = RESULTS / f"roster-{ROWS}.xlsx"
    if path.exists():
        return path
    RESULTS.mkdir(exist_ok=True)
    chooser = random.Random(3)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(DATASETS["rotation"].title)
    sheet.append(DATASETS["rotation"].headers)
    for number in range(ROWS):
        stage, schools = ("小学", PRIMARY + NINE_YEAR) if number % 3 else ("初中", JUNIOR + NINE_YEAR)
        source, target = chooser.sample(schools, 2)
        start = datetime.datetime(2021 + number % 5, 9, 1)
        backbone = "是" if number % 4 == 0 else "否"
        sheet.append([f"T{number:06d}", source, target, stage, stage, backbone, start, chooser.choice([1, 2, 3, 3.5])])
    workbook.save(path)
    return path


def _application():
    """天平-湖南学区 with a lead, a published standard asking for the roster, and an open application."""
    from decimal import Decimal

    from django.utils import timezone

    from certification.domain.roles import grant_role
    from certification.models import (
        Application,
        Cluster,
        ClusterMembership,
        Dimension,
        EvidenceRequirement,
        Indicator,
        Region,
        Role,
        School,
        Standard,
        Tier,
        User,
    )

    city = Region.objects.create(name="上海市", kind=Region.Kind.CITY)
    district = Region.objects.create(name="徐汇区", kind=Region.Kind.DISTRICT, parent=city)
    cluster = Cluster.objects.create(name="天平-湖南学区", kind=Cluster.Kind.XUEQU, district=district)
    for names, stages in ((PRIMARY, ["primary"]), (JUNIOR, ["junior"]), (NINE_YEAR, ["nine_year"])):
        for name in names:
            school = School.objects.create(name=name, district=district, stages=stages)
            ClusterMembership.objects.create(cluster=cluster, school=school)
    lead = User.objects.create(username="bench-lead")
    grant_role(lead, Role.LEAD, cluster=cluster)
    standard = Standard.objects.create(
        tier=Tier.CLOSE_KNIT, version=1, title="紧密型学区和集团评估标准", total_score=10, pass_score=6
    )
    dimension = Dimension.objects.create(standard=standard, code="B", title="师资共享", order=1)
    indicator = Indicator.objects.create(
        dimension=dimension, code="B1", title="教师交流轮岗", max_score=Decimal("10"), method="scored"
    )
    EvidenceRequirement.objects.create(
        indicator=indicator, stage="process", code="B1-1", title="交流轮岗名册", dataset="rotation"
    )
    Standard.objects.filter(pk=standard.pk).update(status=Standard.Status.PUBLISHED, published=timezone.now())
    application = Application.objects.create(
        cluster=cluster, target_tier=Tier.CLOSE_KNIT, standard=standard, year=2026, opened_by=lead
    )
    return application, lead


def _import(application, lead, path):
    from django.core.files import File

    from certification.domain.datasets import start_import

    with path.open("rb") as handle:
        dataset_import = start_import(application, "rotation", File(handle, name="交流轮岗名册.xlsx"), by=lead)
    dataset_import.refresh_from_db()
    if (dataset_import.status, dataset_import.rows_count) != ("done", ROWS):
        raise SystemExit(f"import ended {dataset_import.status} with {dataset_import.errors[:3]}")


def _openpyxl_alone(path):
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    count = 0
    for row in workbook.worksheets[0].iter_rows(min_row=2, values_only=True):
        for _value in row:
            count += 1
    workbook.close()
    return count


def run_case(case):
    from bench import setup_database
    from bench.abab import timed

    setup_database()
    path = roster_path()
    size = path.stat().st_size
    if case == "ours":
        application, lead = _application()
        seconds, cpu, peak = timed(_import, application, lead, path)
        label = f"import {ROWS:,}-row roster (check, read, validate, write, evidence)"
    else:
        seconds, cpu, peak = timed(_openpyxl_alone, path)
        label = f"openpyxl read-only alone, same {ROWS:,} rows"
    return {"label": label, "seconds": seconds, "cpu": cpu, "peak": peak, "rows": ROWS, "file_bytes": size}
