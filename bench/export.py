"""Benchmark: the district summary export of 1,000 applications next to openpyxl's write-only mode alone.

Both sides write the same cells (1,000 application rows and 20,000 indicator rows): ours reads them from the
database, escapes every text cell (`text_cell`) and reports progress; the baseline appends the same values,
already in memory, with no escaping. Time is wall-clock; peak memory is tracemalloc's peak of Python allocations
during the write (measured in a separate run, as tracemalloc slows the code it watches). Each side runs in its own
process; ``python -m bench.abab bench.export`` alternates them several times (see bench/abab.py).

The data hold no text starting with a formula trigger: openpyxl alone would write such text as formulas, and the
two files would no longer hold the same cells. (Quote-prefixing is a style, so a district whose every name
started with "=" would export measurably slower; real names do not.)

Run: ``python -m bench.abab bench.export`` (or ``make bench``). Uses a throw-away SQLite test database.
"""

import tempfile
from decimal import Decimal
from pathlib import Path

from bench import setup_database

APPLICATIONS = 1000
INDICATORS = 20
CASES = ["ours", "openpyxl"]
GOAL = 1.1  # issue 11: at most 1.1× openpyxl write-only


def _fill():
    from certification.models import (
        Application,
        Cluster,
        Dimension,
        Indicator,
        IndicatorResult,
        Region,
        Standard,
        Tier,
        User,
    )

    city = Region.objects.create(name="上海市", kind=Region.Kind.CITY)
    district = Region.objects.create(name="闵行区", kind=Region.Kind.DISTRICT, parent=city)
    user = User.objects.create(username="bench")
    standard = Standard.objects.create(
        tier=Tier.CLOSE_KNIT,
        version=1,
        title="紧密型学区评估标准",
        total_score=Decimal("100"),
        pass_score=Decimal("60"),
    )
    dimension = Dimension.objects.create(standard=standard, code="A", title="教师交流", order=1)
    indicators = [
        Indicator.objects.create(
            dimension=dimension, code=f"A{n}", title=f"指标{n}：教师交流轮岗", order=n, max_score=5, method="scored"
        )
        for n in range(1, INDICATORS + 1)
    ]
    Standard.objects.filter(pk=standard.pk).update(status=Standard.Status.PUBLISHED)
    clusters = Cluster.objects.bulk_create(
        Cluster(name=f"学区{n:04d}", kind=Cluster.Kind.XUEQU, district=district) for n in range(APPLICATIONS)
    )
    applications = Application.objects.bulk_create(
        Application(
            cluster=cluster,
            target_tier=Tier.CLOSE_KNIT,
            standard=standard,
            year=2025,
            status=Application.Status.CERTIFIED,
            opened_by=user,
            total_score=Decimal("82.50"),
            vetoes_met=True,
            passed=True,
        )
        for cluster in clusters
    )
    IndicatorResult.objects.bulk_create(
        (
            IndicatorResult(
                application=application,
                indicator=indicator,
                value=Decimal("4.25"),
                spread=Decimal("0.50"),
                reconciled_reason="复核后确定" if indicator.order == 1 else "",
                veto_met=None,
            )
            for application in applications
            for indicator in indicators
        ),
        batch_size=2000,
    )
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # The planner's statistics, as autovacuum keeps them in production (bench.queues does the same).
            cursor.execute("ANALYZE")
    return district


def _ours(district, path):
    from certification.excel.summary_export import write_export
    from certification.models import ExportJob

    job = ExportJob(kind=ExportJob.Kind.DISTRICT, district=district)
    calls = []
    write_export(job, path, lambda done, total: calls.append(done))
    return calls


def _same_cells(district):
    """The values our export writes, as plain lists, read once (outside the baseline's measurement)."""
    from certification.excel.summary_export import district_summary_rows

    applications, details = district_summary_rows(district)
    first = [
        [
            a.cluster.name,
            a.cluster.get_kind_display(),
            a.get_target_tier_display(),
            a.year,
            str(a.standard),
            a.get_status_display(),
            float(a.total_score),
            float(a.standard.pass_score),
            "是",
            "通过",
        ]
        for a in applications
    ]
    second = [
        [c, y, code, title, float(m), float(v), float(s), "否" if not d else "是", None, r, ""]
        for c, y, code, title, m, v, na, s, d, rv, r, veto in details
    ]
    return first, second


def _baseline(cells, path):
    from openpyxl import Workbook

    first, second = cells
    workbook = Workbook(write_only=True)
    ws = workbook.create_sheet("全区汇总")
    for row in first:
        ws.append(row)
    ws = workbook.create_sheet("指标明细")
    for row in second:
        ws.append(row)
    workbook.save(path)


def run_case(case):
    """One side in its own process: "ours" (read, escape, write) or "openpyxl" (the same cells already in memory)."""
    from bench.abab import timed

    setup_database()
    district = _fill()
    rows = APPLICATIONS + APPLICATIONS * INDICATORS
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{case}.xlsx"
        if case == "ours":
            seconds, cpu, peak = timed(_ours, district, path)
            label = f"district summary export, {APPLICATIONS:,} applications / {rows:,} rows"
        else:
            cells = _same_cells(district)
            seconds, cpu, peak = timed(_baseline, cells, path)
            label = f"openpyxl write-only alone, same {rows:,} rows"
        size = path.stat().st_size
    return {"label": f"{label} ({size:,} bytes)", "seconds": seconds, "cpu": cpu, "peak": peak, "rows": rows}


def main():
    for case in CASES:
        result = run_case(case)
        print(f"{result['label']}: {result['seconds']:.2f} s, peak {result['peak'] / 1024 / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
