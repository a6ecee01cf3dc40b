"""Factories for structured data: clusters with schools of given stages, standards of computed indicators,
applications, data set rows loaded as a finished import, and filled workbooks to import."""

import itertools
from decimal import Decimal
from io import BytesIO

from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from certification.datasets import DATASETS
from certification.domain.roles import grant_role
from certification.metrics import METRICS
from certification.models import Application, ClusterMembership, DatasetImport, Role, Tier
from certification.models.dataset import data_school_year
from tests.factories import ClusterFactory, SchoolFactory, UserFactory, published_standard

_sequence = itertools.count(1)


def data_cluster(*schools):
    """A cluster whose schools are (name, stages, role, weak) tuples; role and weak are optional."""
    cluster = ClusterFactory()
    for name, stages, *rest in schools:
        role = rest[0] if rest else ClusterMembership.Role.MEMBER
        weak = rest[1] if len(rest) > 1 else False
        school = SchoolFactory(name=name, district=cluster.district, stages=list(stages), is_relatively_weak=weak)
        ClusterMembership.objects.create(cluster=cluster, school=school, role=role)
    return cluster


def computed_standard(*specs, tier=Tier.CLOSE_KNIT, stage="process"):
    """A published standard of computed indicators; each spec is (metric, comparator, threshold[, high][, na]).

    Every indicator gets one evidence requirement per data set its metric reads.
    """
    indicators = []
    for number, spec in enumerate(specs, 1):
        metric, comparator, threshold, *rest = spec
        high = rest[0] if rest and isinstance(rest[0], str) else ""
        na_allowed = bool(rest and rest[-1] is True)
        indicators.append(
            {
                "code": f"C{number}",
                "title": f"计算指标{number}",
                "max_score": Decimal("10"),
                "method": "computed",
                "metric": metric,
                "comparator": comparator,
                "threshold": threshold,
                "threshold_high": high,
                "na_allowed": na_allowed,
                "evidence": [
                    {"stage": stage, "code": f"C{number}-{dataset}", "title": f"{dataset} 数据", "dataset": dataset}
                    for dataset in METRICS[metric].datasets
                ],
            }
        )
    total = Decimal(10 * len(indicators))
    return published_standard(tier, indicators=indicators, total_score=total, pass_score=total / 2)


def dataset_standard(*codes, stage="process"):
    """A published standard with one scored indicator whose evidence requirements are filled by `codes`."""
    spec = {
        "code": "D1",
        "title": "数据",
        "max_score": Decimal("10"),
        "method": "scored",
        "evidence": [
            {"stage": stage, "code": f"D{number}-{code}", "title": f"{code} 数据", "dataset": code}
            for number, code in enumerate(codes, 1)
        ],
    }
    return published_standard(Tier.CLOSE_KNIT, indicators=[spec])


def data_application(cluster, standard, *, status=Application.Status.EVIDENCE):
    return Application.objects.create(
        cluster=cluster,
        target_tier=standard.tier,
        standard=standard,
        year=2026,
        status=status,
        opened_by=UserFactory(),
    )


def lead(cluster):
    user = UserFactory()
    grant_role(user, Role.LEAD, cluster=cluster)
    return user


def school(cluster, name):
    return cluster.schools.get(name=name)


def load_rows(application, dataset_code, rows):
    """Store `rows` (dicts of the row model's fields) as the latest version of the data set for the application's
    cluster and school year, pinned by the application (as an import from its page does)."""
    key = {"cluster": application.cluster, "school_year": data_school_year(application), "dataset": dataset_code}
    previous = DatasetImport.objects.filter(**key).exclude(version=None)
    version = previous.count() + 1
    previous.filter(status=DatasetImport.Status.DONE).update(status=DatasetImport.Status.REPLACED)
    application.data_versions.remove(*application.data_versions.filter(dataset=dataset_code))
    dataset_import = DatasetImport.objects.create(
        **key,
        version=version,
        application=application,
        workbook=f"datasets/test/{next(_sequence)}.xlsx",
        original_name="test.xlsx",
        fingerprint=f"{next(_sequence):064d}",
        rows_count=len(rows),
        status=DatasetImport.Status.DONE,
        progress=100,
        created_by=application.opened_by,
    )
    model = DATASETS[dataset_code].model
    model.objects.bulk_create(
        model(dataset_import=dataset_import, row_number=number, **fields) for number, fields in enumerate(rows, 2)
    )
    application.data_versions.add(dataset_import)
    return dataset_import


def workbook_bytes(dataset_code, rows, *, headers=None, sheet=None, extra_sheets=()):
    """A filled workbook of the data set: its sheet with `headers` (the template's by default) and `rows`."""
    dataset = DATASETS[dataset_code]
    workbook = Workbook()
    worksheet = workbook.active
    worksheet.title = sheet or dataset.title
    worksheet.append(list(headers if headers is not None else dataset.headers))
    for row in rows:
        worksheet.append(list(row))
    for title in extra_sheets:
        workbook.create_sheet(title)
    stream = BytesIO()
    workbook.save(stream)
    return stream.getvalue()


def xlsx_upload(content, name="数据.xlsx"):
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def ods_bytes(dataset_code, rows):
    """A filled OpenDocument spreadsheet (as LibreOffice and WPS save it) of the data set: header row, then `rows`.

    Written by hand (the standard is plain zip + XML): numbers as float cells, dates as date cells, the rest text.
    """
    import datetime
    import zipfile
    from xml.sax.saxutils import escape

    def cell(value):
        if isinstance(value, datetime.date):
            return f'<table:table-cell office:value-type="date" office:date-value="{value:%Y-%m-%d}"/>'
        if isinstance(value, int | float) and not isinstance(value, bool):
            return f'<table:table-cell office:value-type="float" office:value="{value}"/>'
        return f'<table:table-cell office:value-type="string"><text:p>{escape(str(value))}</text:p></table:table-cell>'

    dataset = DATASETS[dataset_code]
    body = "".join(
        "<table:table-row>" + "".join(cell(value) for value in row) + "</table:table-row>"
        for row in [dataset.headers, *rows]
    )
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f'<office:body><office:spreadsheet><table:table table:name="{dataset.title}">{body}</table:table>'
        "</office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    stream = BytesIO()
    with zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED
        )
        archive.writestr("content.xml", content)
        archive.writestr("META-INF/manifest.xml", manifest)
    return stream.getvalue()
