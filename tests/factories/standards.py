"""Standards test data: the three shipped standards, an administrator, and workbooks to edit in tests."""

import io
import json
from pathlib import Path

import openpyxl
from django.conf import settings
from django.core.management import call_command

from certification.domain.roles import grant_role
from certification.domain.standards import load_standard
from certification.excel.standard_workbook import export_standard
from certification.models import Role, Standard, Tier

from . import UserFactory


def load_shipped_standards():
    """Run `load_standards` and return {tier: the published version 1}."""
    call_command("load_standards", stdout=io.StringIO())
    return {
        tier: Standard.objects.get(tier=tier, version=1)
        for tier in (Tier.CLOSE_KNIT, Tier.DISTRICT_MODEL, Tier.CITY_MODEL)
    }


def load_shipped_standard(tier):
    """One shipped standard, loaded and published from its fixture file (faster than all three)."""
    path = Path(settings.BASE_DIR) / "fixtures" / "standards" / f"{tier}.json"
    return load_standard(json.loads(path.read_text(encoding="utf-8")), publish=True)


def administrator(**kwargs):
    user = UserFactory(**kwargs)
    grant_role(user, Role.ADMINISTRATOR)
    return user


def editable_workbook(standard):
    """The exported workbook of `standard`, opened for editing."""
    return openpyxl.load_workbook(io.BytesIO(export_standard(standard)))


def workbook_bytes(workbook):
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def row_of(sheet, code, *, column=3):
    """The row number of the first row whose `column` (1-based; 3 = 指标编码 in 指标) holds `code`."""
    for row in range(2, sheet.max_row + 1):
        if sheet.cell(row=row, column=column).value == code:
            return row
    raise LookupError(code)
