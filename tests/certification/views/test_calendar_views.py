"""The administrators' holiday calendar: the year's days, one day added or removed, and the .xlsx import — every
row or none, each refused row named with its reason in Chinese."""

import io
import zipfile
from datetime import date, datetime

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from certification.excel.calendar_workbook import template_workbook
from certification.models import CalendarDay
from tests.factories import UserFactory
from tests.factories.standards import administrator

pytestmark = [pytest.mark.django_db]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PAGE = "/calendar/"


def workbook(rows):
    book = openpyxl.load_workbook(io.BytesIO(template_workbook()))
    sheet = book.active
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return SimpleUploadedFile("节假日.xlsx", buffer.getvalue(), content_type=XLSX)


@pytest.fixture
def admin_client(client):
    client.force_login(administrator())
    return client


def test_page_lists_the_seeded_year_in_chinese(admin_client):
    text = admin_client.get(PAGE, {"year": 2026}).content.decode()

    assert "2026 年节假日日历" in text
    assert 'data-date="2026-10-10"' in text
    assert "调休上班日" in text and "休息日" in text and "国庆节" in text


def test_import_good_rows_adds_and_replaces(admin_client):
    upload = workbook(
        [
            ("2027-01-01", "休息日", "元旦"),
            (datetime(2027, 2, 6), "调休上班日", "春节调休上班"),
            ("2026-10-10", "休息日", "改为休息"),
        ]
    )

    response = admin_client.post(reverse("holiday_calendar_import"), {"file": upload})

    assert response.status_code == 302
    assert CalendarDay.objects.get(date=date(2027, 1, 1)).kind == CalendarDay.Kind.OFF
    assert CalendarDay.objects.get(date=date(2027, 2, 6)).name == "春节调休上班"
    replaced = CalendarDay.objects.get(date=date(2026, 10, 10))
    assert (replaced.kind, replaced.name) == (CalendarDay.Kind.OFF, "改为休息")
    followed = admin_client.get(response["Location"]).content.decode()
    assert "日历已导入：新增 2 天，替换 1 天。" in followed


def test_import_bad_rows_saves_nothing_and_names_each_row(admin_client):
    before = sorted(CalendarDay.objects.values_list("date", "kind", "name"))
    upload = workbook(
        [
            ("2027-01-01", "休息日", "元旦"),
            ("明年元旦", "休息日", "x"),
            ("2027-01-02", "放假", "y"),
            ("2027-01-01", "休息日", "重复"),
            ("2027-01-03", "休息日", "名" * 61),
        ]
    )

    response = admin_client.post(reverse("holiday_calendar_import"), {"file": upload})

    text = response.content.decode()
    assert response.status_code == 400
    assert text.count('data-test="import-error"') == 4
    assert "“明年元旦”不是日期（请写成 2027-01-01）。" in text
    assert "类型必须是 休息日 / 调休上班日，而不是“放假”。" in text
    assert "日期 2027-01-01 已在第 2 行出现。" in text
    assert "名称超过 60 个字符。" in text
    assert sorted(CalendarDay.objects.values_list("date", "kind", "name")) == before


def test_import_refuses_a_file_that_is_no_workbook(admin_client):
    upload = SimpleUploadedFile("节假日.xlsx", b"not a workbook", content_type=XLSX)

    response = admin_client.post(reverse("holiday_calendar_import"), {"file": upload})

    assert response.status_code == 400
    assert "文件不是 Excel 工作簿" in response.content.decode()


def test_import_refuses_entities_in_the_sheet_saves_nothing(admin_client):
    # Refused like a file that is no workbook, wherever openpyxl meets the entity (opening, or reading the rows).
    source = zipfile.ZipFile(io.BytesIO(workbook([("2027-01-01", "休息日", "元旦")]).read()))
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>' + content
            target.writestr(item, content)
    before = CalendarDay.objects.count()
    upload = SimpleUploadedFile("节假日.xlsx", bomb.getvalue(), content_type=XLSX)

    response = admin_client.post(reverse("holiday_calendar_import"), {"file": upload})

    assert response.status_code == 400
    assert "文件不是 Excel 工作簿" in response.content.decode()
    assert CalendarDay.objects.count() == before


def test_add_and_remove_one_day(admin_client):
    added = admin_client.post(reverse("holiday_calendar_add"), {"date": "2027-05-03", "kind": "off", "name": "劳动节"})
    day = CalendarDay.objects.get(date=date(2027, 5, 3))
    removed = admin_client.post(reverse("holiday_calendar_delete", args=[day.pk]))

    assert (added.status_code, removed.status_code) == (302, 302)
    assert not CalendarDay.objects.filter(date=date(2027, 5, 3)).exists()


def test_template_downloads_the_year(admin_client):
    response = admin_client.get(reverse("holiday_calendar_template"), {"year": 2026})

    book = openpyxl.load_workbook(io.BytesIO(response.content))
    rows = list(book.active.iter_rows(min_row=2, values_only=True))
    assert response["Content-Type"] == XLSX
    assert ("2026-10-10", "调休上班日", "国庆节调休上班") in rows
    assert len(rows) == 39


def test_page_queries_same_for_one_and_many_rows(admin_client, django_assert_num_queries):
    CalendarDay.objects.create(date=date(2027, 1, 1), kind="off", name="元旦")
    admin_client.get(PAGE, {"year": 2027})
    with django_assert_num_queries(8):
        one = admin_client.get(PAGE, {"year": 2027})
    CalendarDay.objects.bulk_create([CalendarDay(date=date(2027, 3, d), kind="off", name="测") for d in range(1, 29)])
    with django_assert_num_queries(8):
        many = admin_client.get(PAGE, {"year": 2027})

    assert (one.content.decode().count("data-date="), many.content.decode().count("data-date=")) == (1, 29)


@pytest.mark.parametrize("who", ["anonymous", "plain"])
def test_calendar_urls_refused_to_non_administrators(client, who):
    if who == "plain":
        client.force_login(UserFactory())
    day = CalendarDay.objects.get(date=date(2026, 10, 10))
    before = CalendarDay.objects.count()
    requests = {
        "page": client.get(PAGE),
        "template": client.get(reverse("holiday_calendar_template")),
        "add": client.post(reverse("holiday_calendar_add"), {"date": "2027-05-03", "kind": "off"}),
        "delete": client.post(reverse("holiday_calendar_delete", args=[day.pk])),
        "import": client.post(reverse("holiday_calendar_import"), {"file": workbook([("2027-01-01", "休息日", "")])}),
    }

    expected = 302 if who == "anonymous" else 403
    assert {name: response.status_code for name, response in requests.items()} == dict.fromkeys(requests, expected)
    assert CalendarDay.objects.count() == before
