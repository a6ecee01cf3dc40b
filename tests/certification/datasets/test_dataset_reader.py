"""The data set reader before and after calamine (python-calamine-plus): hostile archives refused before any parser, oversized
sheets refused from their XML, progress counted without a <dimension>, and .ods read like .xlsx."""

import datetime
import io
import time
import zipfile

import pytest
from django.utils import translation

from certification.datasets import DATASETS, reader
from certification.datasets.base import ImportContext
from certification.domain.datasets import start_import
from certification.models import ClusterMembership, RotationRecord
from tests.factories.datasets import (
    data_application,
    data_cluster,
    dataset_standard,
    lead,
    ods_bytes,
    workbook_bytes,
    xlsx_upload,
)

ROTATION = DATASETS["rotation"]
NOT_READ = "无法读取此文件：请下载模板填写后保存为 Excel（.xlsx）或 OpenDocument 表格（.ods）再上传。"


@pytest.fixture(autouse=True)
def chinese():
    with translation.override("zh-hans"):
        yield


@pytest.fixture
def context():
    return ImportContext(schools_by_name={})


def rewrite(content, part, change):
    """`content` (an .xlsx) with zip part `part` replaced by change(its bytes)."""
    source = zipfile.ZipFile(io.BytesIO(content))
    stream = io.BytesIO()
    with zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            target.writestr(item.filename, change(data) if item.filename == part else data)
    return stream.getvalue()


def write(tmp_path, content, name="book.xlsx"):
    path = tmp_path / name
    path.write_bytes(content)
    return path


def header_only():
    return workbook_bytes("rotation", [])


def test_reader_refuses_an_entity_declaration_before_any_parser(tmp_path, context):
    content = rewrite(
        header_only(),
        "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace(b"<worksheet", b'<!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]><worksheet', 1),
    )

    outcome = reader.read(ROTATION, write(tmp_path, content), context)

    assert [error["message"] for error in outcome.errors] == [NOT_READ]


def test_reader_refuses_a_zip_bomb_before_inflating_it(tmp_path, context):
    content = rewrite(header_only(), "xl/worksheets/sheet1.xml", lambda xml: xml + b" " * (50 * 1024 * 1024))

    outcome = reader.read(ROTATION, write(tmp_path, content), context)

    assert [error["message"] for error in outcome.errors] == ["工作簿解压后过大，请把数据拆分成几个较小的文件。"]


def sheet_of_rows(rows, *, dimension=""):
    """A roster sheet of `rows` one-cell rows after the header, written as raw XML (a million rows in a second)."""
    body = b"".join(b'<row r="%d"><c r="A%d"><v>1</v></c></row>' % (n, n) for n in range(2, rows + 2))

    def change(xml):
        if dimension:
            xml = xml.replace(b"<sheetViews>", f'<dimension ref="{dimension}"/><sheetViews>'.encode(), 1)
        return xml.replace(b"</sheetData>", body + b"</sheetData>", 1)

    return rewrite(header_only(), "xl/worksheets/sheet1.xml", change)


@pytest.mark.parametrize(("rows", "dimension"), [(1_048_575, "A1:H1048576"), (100_001, "")])
def test_reader_refuses_a_sheet_over_the_row_limit_from_its_xml_before_parsing_rows(tmp_path, context, rows, dimension):
    path = write(tmp_path, sheet_of_rows(rows, dimension=dimension))
    started = time.process_time()

    outcome = reader.read(ROTATION, path, context)

    assert [error["message"] for error in outcome.errors] == [
        f"工作表有 {rows + 1} 行，交流轮岗名册 工作簿最多只能有 100000 行数据。请拆分为多个文件后上传。"
    ]
    assert outcome.rows == 0
    # Counting a million rows' XML is not parsing them: openpyxl took 29 s on this sheet.
    assert time.process_time() - started < 5


@pytest.fixture
def cluster():
    return data_cluster(("天平路小学", ["primary"], ClusterMembership.Role.LEAD), ("湖南路小学", ["primary"]))


def roster(count):
    return [
        [f"T{n:05d}", "天平路小学", "湖南路小学", "小学", "小学", "否", datetime.datetime(2025, 9, 1), 3]
        for n in range(count)
    ]


@pytest.mark.django_db
def test_reader_progress_counts_the_rows_of_a_sheet_without_a_dimension(tmp_path, cluster):
    content = workbook_bytes("rotation", roster(3000))
    content = rewrite(
        content, "xl/worksheets/sheet1.xml", lambda xml: xml.replace(b'<dimension ref="A1:H3001" />', b"")
    )
    assert b"dimension" not in zipfile.ZipFile(io.BytesIO(content)).read("xl/worksheets/sheet1.xml")
    context = ImportContext(schools_by_name={school.name: school for school in cluster.schools.all()})
    seen = []

    outcome = reader.read(ROTATION, write(tmp_path, content), context, on_progress=lambda *args: seen.append(args))

    assert (outcome.ok, outcome.rows) == (True, 3000)
    assert seen == [(1000, 3000), (2000, 3000), (3000, 3000)]


@pytest.mark.django_db
def test_import_of_an_ods_roster_stores_its_rows(settings, tmp_path, cluster, django_capture_on_commit_callbacks):
    settings.MEDIA_ROOT = str(tmp_path)
    application = data_application(cluster, dataset_standard("rotation"))
    content = ods_bytes("rotation", roster(3))

    with django_capture_on_commit_callbacks(execute=True):
        dataset_import = start_import(application, "rotation", xlsx_upload(content, "名册.ods"), by=lead(cluster))
    dataset_import.refresh_from_db()

    assert (dataset_import.status, dataset_import.rows_count, dataset_import.errors) == ("done", 3, [])
    assert list(
        RotationRecord.objects.for_application(application).values_list("teacher", "start_date", "term_years")
    ) == [
        ("T00000", datetime.date(2025, 9, 1), 3),
        ("T00001", datetime.date(2025, 9, 1), 3),
        ("T00002", datetime.date(2025, 9, 1), 3),
    ]
    assert dataset_import.evidence_files.get().content_type == "application/vnd.oasis.opendocument.spreadsheet"


EMPTY_ROWS = (
    b'<table:table-row table:number-rows-repeated="1048000">'
    b'<table:table-cell table:number-columns-repeated="1024"/></table:table-row>'
)
VALUED_ROW = b'<table:table-row><table:table-cell office:value-type="string"><text:p>x</text:p></table:table-cell></table:table-row>'


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("tail", "refusal"),
    [
        # LibreOffice ends a sheet with one repeated empty row: it holds nothing and is not laid out.
        (EMPTY_ROWS, None),
        # Repeated empty rows before a value are laid out, a million cells each column (588 MiB in calamine).
        (
            EMPTY_ROWS + VALUED_ROW,
            "工作表有 1048004 行，交流轮岗名册 工作簿最多只能有 100000 行数据。请拆分为多个文件后上传。",
        ),
        # One valued cell repeated across 16,384 columns for each of 200 rows.
        (
            b'<table:table-row table:number-rows-repeated="200"><table:table-cell office:value-type="float" '
            b'office:value="1" table:number-columns-repeated="16384"/></table:table-row>',
            "工作簿解压后过大，请把数据拆分成几个较小的文件。",
        ),
    ],
    ids=["trailing-empty-rows", "empty-rows-before-a-value", "repeated-columns"],
)
def test_reader_counts_ods_repeats_as_they_would_be_laid_out(tmp_path, cluster, tail, refusal):
    content = rewrite(
        ods_bytes("rotation", roster(2)),
        "content.xml",
        lambda xml: xml.replace(b"</table:table>", tail + b"</table:table>"),
    )
    context = ImportContext(schools_by_name={school.name: school for school in cluster.schools.all()})

    outcome = reader.read(ROTATION, write(tmp_path, content, "book.ods"), context)

    if refusal is None:
        assert (outcome.ok, outcome.rows) == (True, 2)
    else:
        assert [error["message"] for error in outcome.errors] == [refusal]
