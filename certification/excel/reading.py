"""Opening a workbook someone uploaded, and refusing it with every problem listed: what every import shares."""

import logging
import zipfile
from contextlib import contextmanager
from typing import NamedTuple
from xml.etree.ElementTree import ParseError

import openpyxl
from django.utils.translation import gettext as _
from openpyxl.utils.exceptions import InvalidFileException

from certification.errors import InvalidInput

from .cells import ensure_safe_parser

logger = logging.getLogger(__name__)


class CellError(NamedTuple):
    """One problem in a workbook. `row` is None for a problem with a whole sheet; `column` is a letter or ""."""

    sheet: str
    row: int | None
    column: str
    message: str


class WorkbookRejected(InvalidInput):
    """The workbook could not be imported; `errors` lists every problem found, each with where it is."""

    def __init__(self, errors):
        self.errors = list(errors)
        super().__init__(
            _("The workbook was not imported: %(count)s error(s). Nothing was saved.") % {"count": len(self.errors)}
        )


def _not_a_workbook():
    return WorkbookRejected([CellError("", None, "", _("The file is not an Excel workbook (.xlsx)."))])


@contextmanager
def uploaded_workbook(file, *, kind):
    """`file` opened read-only with cell values (not formulas), parsed by defusedxml, closed on leaving.

    A file that is no .xlsx, or whose XML cannot be read safely while its sheets are read inside the block, is
    refused as WorkbookRejected, never raised as a parser's error. `kind` names the workbook in the log.
    """
    ensure_safe_parser()
    if hasattr(file, "seek"):
        file.seek(0)
    try:
        workbook = openpyxl.load_workbook(file, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError, TypeError, EOFError, ParseError):
        logger.info("refused a %s workbook that is not a readable .xlsx", kind, exc_info=True)
        raise _not_a_workbook() from None
    try:
        yield workbook
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, ParseError):
        # defusedxml's refusals (entities, external references) are ValueErrors raised while a sheet is parsed.
        logger.info("refused a %s workbook whose XML could not be read safely", kind, exc_info=True)
        raise _not_a_workbook() from None
    finally:
        workbook.close()
