"""Workbooks that claim or unpack to more than memory holds are refused in seconds.

Each bomb is screened by the command line in a child process with a memory cap and a
timeout: a reader that trusts the sheet's claimed size or parses every shared string
before looking runs out of memory or time there instead of answering.
"""

from __future__ import annotations

import io
import re
import resource
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest

from screening.columns import FileLevelError
from screening.reading import read_table
from screening.uploads import Upload, load_uploads
from screening.workbooks import WorkbookLimits, check_workbook_archive
from tests.builders import ALAMEDA

#: Address space of the child: the command's own imports fit, a sheet of 10^10 cells does not.
MEMORY_CAP = 3 * 1024**3
TIMEOUT = 120


def _capped() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def screen_in_child(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "screening", "screen", str(path), "--spec", str(ALAMEDA),
         "--as-of", "2026-11-26", "--no-audit"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        preexec_fn=_capped,
    )  # fmt: skip


def _workbook_bytes(rows: dict[int, list[str]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for number, values in rows.items():
        for column, value in enumerate(values, start=1):
            sheet.cell(number, column, value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _rewrite(data: bytes, changes: dict[str, bytes | None]) -> bytes:
    """The workbook `data` with parts replaced (a None part is left as it is)."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target,
    ):
        for info in source.infolist():
            replacement = changes.get(info.filename)
            target.writestr(info.filename, replacement or source.read(info.filename))
        for name, part in changes.items():
            if name not in source.namelist() and part is not None:
                target.writestr(name, part)
    return out.getvalue()


def dimension_bomb() -> bytes:
    """A sheet that claims A1:XFD1048576 and holds a header and one row numbered 1048576."""
    data = _workbook_bytes({1: ["applicant_id", "job1_title"], 1_048_576: ["A-1", "Clerk"]})
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml")
    sheet = re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD1048576"', sheet)
    return _rewrite(data, {"xl/worksheets/sheet1.xml": sheet})


SHARED_STRINGS_TYPE = (
    b'<Override PartName="/xl/strings.xml" ContentType="application/vnd.openxmlformats-'
    b'officedocument.spreadsheetml.sharedStrings+xml"/>'
)


def shared_strings_bomb(count: int = 40_000_000, item: bytes = b"<si><t/></si>") -> bytes:
    """A workbook whose sharedStrings part holds tens of millions of strings in under a
    megabyte (streamed into the archive, never held whole)."""
    data = _workbook_bytes({1: ["applicant_id", "job1_title"], 2: ["A-1", "Clerk"]})
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target,
    ):
        for info in source.infolist():
            part_bytes = source.read(info.filename)
            if info.filename == "[Content_Types].xml":  # the reader finds the part by its type
                part_bytes = part_bytes.replace(b"</Types>", SHARED_STRINGS_TYPE + b"</Types>")
            target.writestr(info.filename, part_bytes)
        with target.open("xl/strings.xml", "w", force_zip64=True) as part:
            part.write(
                b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.'
                b'openxmlformats.org/spreadsheetml/2006/main" count="%d" uniqueCount="%d">'
                % (count, count)
            )
            block = 100_000
            for start in range(0, count, block):
                part.write(item * min(block, count - start))
            part.write(b"</sst>")
    return out.getvalue()


def test_a_sheet_claiming_every_cell_of_excel_is_refused_in_seconds(tmp_path: Path) -> None:
    bomb = tmp_path / "claims.xlsx"
    bomb.write_bytes(dimension_bomb())
    assert bomb.stat().st_size < 20_000
    done = screen_in_child(bomb)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    assert re.search(r"is refused: it has a value in row 1,048,576", done.stderr)
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_shared_strings_bomb_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    bomb = tmp_path / "strings.xlsx"
    bomb.write_bytes(shared_strings_bomb())
    assert bomb.stat().st_size < 1_100_000
    done = screen_in_child(bomb)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "Traceback" not in done.stderr and "is refused" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "item",
    [b"<si><t/></si>", b"<x:si><x:t>" + b"a" * 997 + b"</x:t></x:si>"],
    ids=["empty strings", "prefixed long strings across blocks"],
)
def test_shared_strings_are_counted_exactly_without_parsing_them(
    tmp_path: Path, item: bytes
) -> None:
    # within the size and ratio limits, over the count: the count alone refuses it
    path = tmp_path / "many.xlsx"
    path.write_bytes(shared_strings_bomb(count=3000, item=item))
    limits = WorkbookLimits(shared_strings=2999, ratio=10**6)
    with pytest.raises(FileLevelError, match="more than 2,999 shared strings"):
        check_workbook_archive(path, "applicants", str(path), limits)
    exact = WorkbookLimits(shared_strings=3000, ratio=10**6)
    check_workbook_archive(path, "applicants", str(path), exact)


def test_the_app_upload_refuses_the_same_bombs() -> None:
    from screening.uploads import UploadError

    with pytest.raises(UploadError, match="is refused"):
        load_uploads(Upload("claims.xlsx", dimension_bomb()))


def test_a_sheet_with_a_wide_claimed_dimension_reads_only_its_cells(tmp_path: Path) -> None:
    data = _workbook_bytes({1: ["applicant_id", "job1_title"], 2: ["A-1", "Clerk"]})
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml")
    sheet = re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD3"', sheet)
    path = tmp_path / "wide.xlsx"
    path.write_bytes(_rewrite(data, {"xl/worksheets/sheet1.xml": sheet}))
    table = read_table(path, "applicants")
    assert table.headers == ["applicant_id", "job1_title"]
    assert table.data.values.tolist() == [["A-1", "Clerk"]]


def test_one_far_cell_cannot_make_every_row_that_wide(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import screening.workbooks

    monkeypatch.setattr(screening.workbooks, "WORKBOOK_LIMITS", WorkbookLimits(span=1_000))
    rows = {n: [f"A-{n}", "Clerk"] for n in range(2, 40)}
    path = tmp_path / "far.xlsx"
    path.write_bytes(_workbook_bytes({1: ["applicant_id", "job1_title"], **rows}))
    assert len(read_table(path, "applicants").data) == 38  # 39 rows x 2 columns: read
    far = {**rows, 3: ["A-3", "Clerk", *[""] * 40, "x"]}  # a value in column 43
    path.write_bytes(_workbook_bytes({1: ["applicant_id", "job1_title"], **far}))
    with pytest.raises(FileLevelError, match="39 rows and 43 columns span more than 1,000"):
        read_table(path, "applicants")
