"""Every download of rows (segment members, referral report and list) as CSV or
XLSX, streamed: rows are read while the response is written, never all in memory."""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Callable, Container, Iterable, Iterator

from flask import Response, stream_with_context

FORMATS = ("csv", "xlsx")
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_FLUSH_EVERY = 500  # rows per chunk written to the client
_FILE_CHUNK = 64 * 1024


def formula_safe(value):
    """Spreadsheets run a cell that starts with = + - @ (or a tab/return) as a
    formula: such text is quoted, so a member's name cannot run in staff's sheet."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def chosen_format(args) -> str:
    """`?format=xlsx` asks for a workbook; anything else is CSV."""
    return "xlsx" if args.get("format") == "xlsx" else "csv"


def download(filename: str, header: Iterable[str], rows_of: Callable[[], Iterable[Iterable]], *,
             fmt: str = "csv", free_text: Container[int] | None = None) -> Response:
    """A streamed attachment named `filename` (its extension follows `fmt`).
    `rows_of()` is called inside the stream, so its query (a server-side cursor)
    runs in the transaction the rows are read in. `free_text` are the column
    indexes that hold text people typed (None: every column); in CSV those are
    made `formula_safe`, in XLSX every string is stored as text, never a formula."""
    if fmt == "xlsx":
        body, mimetype = _xlsx_chunks(header, rows_of), XLSX_MIMETYPE
        filename = filename.rsplit(".", 1)[0] + ".xlsx"
    else:
        body, mimetype = _csv_chunks(header, rows_of, free_text), "text/csv"
    return Response(stream_with_context(body), mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"',
                             "Cache-Control": "no-store"})


def _csv_chunks(header, rows_of, free_text) -> Iterator[str]:
    rows = rows_of()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")  # so spreadsheet programs read the Persian names as UTF-8
    writer.writerow(header)
    for n, row in enumerate(rows, 1):
        writer.writerow([formula_safe(v) if free_text is None or i in free_text else v
                         for i, v in enumerate(row)])
        if n % _FLUSH_EVERY == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _xlsx_chunks(header, rows_of) -> Iterator[bytes]:
    # a workbook is a zip: it can only be sent once written; the write-only
    # workbook keeps the rows on disk, not in memory, until then
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet()

    def cell(value):
        out = WriteOnlyCell(sheet, value)
        if isinstance(value, str):
            out.data_type = "s"  # text that starts with "=" stays text
        return out

    sheet.append([cell(v) for v in header])
    for row in rows_of():
        sheet.append([cell(v) for v in row])
    with tempfile.TemporaryFile() as out:
        book.save(out)
        out.seek(0)
        while chunk := out.read(_FILE_CHUNK):
            yield chunk
