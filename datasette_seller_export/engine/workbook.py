"""The XLSX export: an Office Open XML workbook, written as it is sent.

Each batch's rows, already worksheet XML from SQLite (encoders.xlsx_row_sql), are deflated
into the current sheet's ZIP member (zipstream.py) as they come, so memory holds one batch
whatever the size. What must know the end comes after the rows: each sheet's autofilter
range, then the workbook, which names the sheets, and the package's other parts. Excel holds
1,048,576 rows a sheet: past them the rows go on in `sellers 2`, `sellers 3`, ..., each
with the header (bold, frozen, filtered).
"""

from datetime import datetime, timezone

from .schema import BOOLEAN_COLUMNS, COLUMN_TYPES, TIMESTAMP_COLUMNS
from .zipstream import ZipStream

EXCEL_ROWS = 1_048_576  # a worksheet's, the header's included
SHEET_NAME = "sellers"
_ROW_END = b"</row>"  # no cell's text holds it: its < is always escaped
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE_RELATIONSHIPS = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_OFFICE = "application/vnd.openxmlformats-officedocument.spreadsheetml"

# The cell formats a cell's `s` names, in order: the default, bold (the header), and the
# date-time shown as yyyy-mm-dd hh:mm:ss (a format of our own, numbered from 164 as Excel
# numbers its custom formats).
XLSX_HEADER_STYLE = 1
XLSX_DATE_STYLE = 2
_CELL_FORMATS = [
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>',
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>',
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>',
]
STYLES = (
    f'{_XML}<styleSheet xmlns="{_MAIN}">'
    '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm:ss"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    f'<cellXfs count="{len(_CELL_FORMATS)}">{"".join(_CELL_FORMATS)}</cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


def column_letters(number):
    """Excel's name of the 1-based column `number`: A, ..., Z, AA, ..."""
    letters = ""
    while number:
        number, remainder = divmod(number - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def _width(column):
    """Characters wide: a date-time needs 19, or Excel shows ####."""
    if column in TIMESTAMP_COLUMNS:
        return 20
    if column in BOOLEAN_COLUMNS:
        return 9
    return 28 if COLUMN_TYPES[column] is str else 14


def sheet_name(number):
    return SHEET_NAME if number == 1 else f"{SHEET_NAME} {number}"


class Workbook:
    """The workbook of the rows of `columns`, as the document an export writes (see
    formats.Document): `begin()`, `add(rows_xml, count)` per batch, `end()`. A sheet holds
    `rows_per_sheet` rows under its header (Excel's most, unless a test asks for fewer)."""

    def __init__(self, columns, rows_per_sheet=EXCEL_ROWS - 1, modified=None):
        self._columns = columns
        self._rows_per_sheet = rows_per_sheet
        self._zip = ZipStream(modified or datetime.now(timezone.utc))
        self._sheet_rows = []  # the rows of each finished sheet
        self._rows = 0  # in the sheet being written
        widths = "".join(
            f'<col min="{n}" max="{n}" width="{_width(c)}" customWidth="1"/>'
            for n, c in enumerate(columns, 1)
        )
        header = "".join(
            f'<c t="inlineStr" s="{XLSX_HEADER_STYLE}"><is><t>{column}</t></is></c>'
            for column in columns
        )
        self._sheet_head = (
            f'{_XML}<worksheet xmlns="{_MAIN}"><sheetViews><sheetView workbookViewId="0">'
            '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
            '<selection pane="bottomLeft"/></sheetView></sheetViews>'
            f"<cols>{widths}</cols><sheetData><row>{header}</row>"
        ).encode()

    def begin(self) -> bytes:
        return self._start_sheet()

    def add(self, rows_xml: bytes, count: int) -> bytes:
        out = []
        while self._rows + count > self._rows_per_sheet:
            room = self._rows_per_sheet - self._rows
            cut = _after_rows(rows_xml, room)
            out += [self._zip.write(rows_xml[:cut]), self._end_sheet(room), self._start_sheet()]
            rows_xml, count = rows_xml[cut:], count - room
        self._rows += count
        out.append(self._zip.write(rows_xml))
        return b"".join(out)

    def end(self) -> bytes:
        out = self._end_sheet(0)
        for name, text in self._parts():
            out += self._zip.add(name, text.encode())
        return out + self._zip.finish()

    def _start_sheet(self):
        name = f"xl/worksheets/sheet{len(self._sheet_rows) + 1}.xml"
        return self._zip.start(name) + self._zip.write(self._sheet_head)

    def _end_sheet(self, more_rows):
        rows = self._rows + more_rows
        self._sheet_rows.append(rows)
        self._rows = 0
        tail = f'</sheetData><autoFilter ref="A1:{self._last_cell(rows)}"/></worksheet>'
        return self._zip.write(tail.encode()) + self._zip.end_member()

    def _last_cell(self, rows, absolute=""):
        return f"{absolute}{column_letters(len(self._columns))}{absolute}{rows + 1}"

    def _parts(self):
        """The package's parts but the sheets: each names the sheets, so they come last."""
        numbers = range(1, len(self._sheet_rows) + 1)
        sheets = "".join(
            f'<sheet name="{sheet_name(n)}" sheetId="{n}" r:id="rId{n}"/>' for n in numbers
        )
        # Excel keeps each autofilter's range in a hidden name of its sheet as well.
        filters = "".join(
            f'<definedName name="_xlnm._FilterDatabase" localSheetId="{n - 1}" hidden="1">'
            f"'{sheet_name(n)}'!$A$1:{self._last_cell(rows, '$')}</definedName>"
            for n, rows in zip(numbers, self._sheet_rows, strict=True)
        )
        workbook = (
            f'{_XML}<workbook xmlns="{_MAIN}" xmlns:r="{_RELATIONSHIPS}">'
            f"<bookViews><workbookView/></bookViews><sheets>{sheets}</sheets>"
            f"<definedNames>{filters}</definedNames></workbook>"
        )
        relationships = "".join(
            f'<Relationship Id="rId{n}" Type="{_RELATIONSHIPS}/worksheet"'
            f' Target="worksheets/sheet{n}.xml"/>'
            for n in numbers
        )
        styles_id = len(self._sheet_rows) + 1
        relationships += (
            f'<Relationship Id="rId{styles_id}" Type="{_RELATIONSHIPS}/styles"'
            ' Target="styles.xml"/>'
        )
        overrides = "".join(
            f'<Override PartName="/xl/worksheets/sheet{n}.xml"'
            f' ContentType="{_OFFICE}.worksheet+xml"/>'
            for n in numbers
        )
        content_types = (
            f'{_XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels"'
            ' ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{_OFFICE}.sheet.main+xml"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{_OFFICE}.styles+xml"/>'
            f"{overrides}</Types>"
        )
        package = (
            f'<Relationship Id="rId1" Type="{_RELATIONSHIPS}/officeDocument"'
            ' Target="xl/workbook.xml"/>'
        )
        return [
            ("xl/workbook.xml", workbook),
            ("xl/_rels/workbook.xml.rels", _relationships(relationships)),
            ("xl/styles.xml", STYLES),
            ("_rels/.rels", _relationships(package)),
            ("[Content_Types].xml", content_types),
        ]


def _relationships(entries):
    return f'{_XML}<Relationships xmlns="{_PACKAGE_RELATIONSHIPS}">{entries}</Relationships>'


def _after_rows(rows_xml: bytes, count: int) -> int:
    """Where the first `count` rows of `rows_xml` end."""
    end = 0
    for _ in range(count):
        end = rows_xml.index(_ROW_END, end) + len(_ROW_END)
    return end
