"""Reading XLSX and Parquet exports back with the tools people open them in, and what each
should hold: the oracle's rows (support.oracle) as a spreadsheet or a data frame types them."""

import os
import re
import subprocess
import tempfile
from datetime import datetime, timezone

from support.oracle import EXPORTED

# Excel's own escape for characters XML cannot hold: openpyxl leaves it in the text.
_EXCEL_ESCAPE = re.compile("_x([0-9A-Fa-f]{4})_")
NUMBERS = ("times_seen", "feedback_percent", "feedback_count")


def excel_unescape(text):
    return _EXCEL_ESCAPE.sub(lambda match: chr(int(match.group(1), 16)), text)


def as_moment(text):
    """A mirror's timestamp as the naive UTC datetime a spreadsheet holds: to the millisecond,
    Excel's resolution, rounded as SQLite rounds it; None if it is not one Excel can hold."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    if moment < datetime(1900, 3, 1):
        return None
    milliseconds = round(moment.microsecond / 1000)
    return moment.replace(microsecond=0) + (milliseconds * 1000) * _MICROSECOND


_MICROSECOND = datetime(2000, 1, 1, 0, 0, 0, 1) - datetime(2000, 1, 1)


def spreadsheet_row(row, columns=EXPORTED):
    """What a row's cells hold in the workbook: numbers, a boolean, a date-time, text."""
    cells = []
    for column in columns:
        value = row[column]
        if column == "flagged" and value is not None:
            value = bool(value)
        elif column == "created_at" and value is not None:
            value = as_moment(value) or value
        cells.append(value)
    return tuple(cells)


# LibreOffice saves a boolean as a formula giving it.
_BOOLEAN_FORMULAS = {"=TRUE()": True, "=FALSE()": False}


def _value(cell):
    if cell.data_type == "f":
        return _BOOLEAN_FORMULAS[cell.value]  # no other formula: text is never one
    return excel_unescape(cell.value) if isinstance(cell.value, str) else cell.value


def openpyxl_sheets(path):
    """{sheet name: rows as tuples, the header first} as openpyxl reads them, text unescaped."""
    import openpyxl

    workbook = openpyxl.load_workbook(path, read_only=True)
    sheets = {}
    for sheet in workbook.worksheets:
        sheets[sheet.title] = [tuple(map(_value, row)) for row in sheet.iter_rows()]
    workbook.close()
    return sheets


def libreoffice_resaved(path):
    """The workbook as LibreOffice reads it: opened headless and saved again as XLSX, which
    openpyxl then reads (LibreOffice's CSV would write numbers as shown, not as held)."""
    with tempfile.TemporaryDirectory() as out, tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                "soffice",
                f"-env:UserInstallation=file://{profile}",
                "--headless",
                "--convert-to",
                "xlsx",
                "--outdir",
                out,
                str(path),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        return openpyxl_sheets(os.path.join(out, os.path.basename(str(path))))
