"""The one streamed writer behind every download (CSV and XLSX)."""

from __future__ import annotations

import io

from flask import Flask
from openpyxl import load_workbook

from tests.helpers.web import sign_in_staff as sign_in
from webapp import exports

HEADER = ("id", "name", "note")


def _body(response) -> bytes:
    return response.get_data()


def test_csv_starts_with_a_bom_and_quotes_formulas_only_in_free_text_columns():
    rows = [(1, "=SUM(A1)", "+98"), (2, "سارا", "-1")]
    with Flask(__name__).test_request_context():
        response = exports.download("x.csv", HEADER, lambda: iter(rows), free_text={1})
        body = _body(response)
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="x.csv"'
    assert response.headers["Cache-Control"] == "no-store"
    assert body == "\ufeffid,name,note\r\n1,'=SUM(A1),+98\r\n2,سارا,-1\r\n".encode()


def test_csv_quotes_every_column_when_none_is_named_and_flushes_in_chunks():
    rows = [(n, "@x", n) for n in range(1201)]
    with Flask(__name__).test_request_context():
        chunks = list(exports.download("x.csv", HEADER, lambda: iter(rows)).response)
    assert len(chunks) == 3  # 500, 500, the rest
    assert "".join(chunks).splitlines()[1] == "0,'@x,0"


def test_xlsx_keeps_formula_looking_text_as_text():
    rows = [(1, "=SUM(A1)", None), (2, "سارا", 7)]
    with Flask(__name__).test_request_context():
        response = exports.download("x.csv", HEADER, lambda: iter(rows), fmt="xlsx")
        body = _body(response)
    assert response.mimetype == exports.XLSX_MIMETYPE
    assert response.headers["Content-Disposition"] == 'attachment; filename="x.xlsx"'
    sheet = load_workbook(io.BytesIO(body)).active
    assert [[c.value for c in row] for row in sheet.iter_rows()] == [list(HEADER), [1, "=SUM(A1)", None],
                                                                      [2, "سارا", 7]]
    assert sheet["B2"].data_type == "s"


def test_the_segment_export_also_comes_as_a_workbook(app, client, make_staff, make_member, make_segment):
    sign_in(client, make_staff("marketer"))
    member = make_member(points=200, display_name="=HYPERLINK(\"x\")")
    segment_id = make_segment()
    response = client.get(f"/admin/segments/{segment_id}/members.csv?format=xlsx")
    assert response.status_code == 200 and response.mimetype == exports.XLSX_MIMETYPE
    assert response.headers["Content-Disposition"].endswith('.xlsx"')
    rows = list(load_workbook(io.BytesIO(response.get_data())).active.iter_rows(values_only=True))
    assert rows[0] == ("id", "name", "email", "mobile", "tier", "points", "joined")
    assert rows[1][:2] == (member.id, "=HYPERLINK(\"x\")") and rows[1][5] == 200
