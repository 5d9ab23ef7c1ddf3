"""Reading documents: every format gives live paragraphs and keeps struck text apart."""

from __future__ import annotations

import hashlib
from pathlib import Path

import docx
import pytest

from screening.documents import DocumentError, read_document, read_document_bytes


def make_pdf(lines: list[str]) -> bytes:
    """A one-page PDF whose text layer holds the lines (Helvetica, one line each)."""
    body = ["BT /F1 11 Tf 72 720 Td 14 TL"]
    for line in lines:
        escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        body.append(f"({escaped}) Tj T*")
    body.append("ET")
    stream = "\n".join(body).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


def test_markdown_strike_is_removed_and_kept_for_the_audit(tmp_path: Path) -> None:
    path = tmp_path / "spec.md"
    path.write_text(
        "# Minimum Qualifications\n\n"
        "Two years of experience in payroll. ~~Experience in banking is desirable.~~\n",
        encoding="utf-8",
    )
    document = read_document(path)
    assert document.paragraphs == ["Minimum Qualifications", "Two years of experience in payroll."]
    assert document.removed == ["Experience in banking is desirable."]


def test_text_identity_is_the_sha256_of_the_bytes(tmp_path: Path) -> None:
    path = tmp_path / "spec.txt"
    data = b"Minimum Qualifications\nOne year of clerical experience.\n"
    path.write_bytes(data)
    document = read_document(path)
    assert document.sha256 == hashlib.sha256(data).hexdigest()
    assert document.name == "spec.txt"


def test_text_wrapped_lines_join_into_one_paragraph(tmp_path: Path) -> None:
    path = tmp_path / "wrapped.txt"
    path.write_text("Three years of experience in\npublic works inspection.\nLicense\n")
    assert read_document(path).paragraphs == [
        "Three years of experience in public works inspection.",
        "License",
    ]


def test_windows_1252_text_is_read(tmp_path: Path) -> None:
    path = tmp_path / "cp.txt"
    path.write_bytes("Bachelor\u2019s degree in accounting.".encode("cp1252"))
    assert read_document(path).paragraphs == ["Bachelor\u2019s degree in accounting."]


def test_html_strike_tags_and_styles_are_removed(tmp_path: Path) -> None:
    html = """<html><head><style>p {color: black}</style></head><body>
    <p class=MsoNormal>MINIMUM ACCEPTABLE TRAINING AND EXPERIENCE</p>
    <p>Two years of experience <s>in retail sales</s> in procurement.</p>
    <p>Old text <strike>gone one</strike> and <del>gone two</del> end.</p>
    <p><span style='text-decoration:line-through'>gone three</span>Kept.</p>
    <p><span class=msoDel>gone four</span>Also kept.</p>
    <p>Split by a<br>
    line break that continues.</p>
    </body></html>"""
    path = tmp_path / "spec.htm"
    path.write_text(html, encoding="utf-8")
    document = read_document(path)
    assert document.paragraphs == [
        "MINIMUM ACCEPTABLE TRAINING AND EXPERIENCE",
        "Two years of experience in procurement.",
        "Old text and end.",
        "Kept.",
        "Also kept.",
        "Split by a line break that continues.",
    ]
    assert document.removed == [
        "in retail sales",
        "gone one",
        "gone two",
        "gone three",
        "gone four",
    ]


def test_html_word_comments_are_not_document_text(tmp_path: Path) -> None:
    html = (
        "<html><body><p>One year of experience.<a class=msocomanchor>[AB1]</a></p>"
        "<div class=msocomtxt><p>Reviewer: is this right?</p></div></body></html>"
    )
    path = tmp_path / "commented.html"
    path.write_text(html)
    assert read_document(path).paragraphs == ["One year of experience."]


def test_docx_struck_runs_are_removed(tmp_path: Path) -> None:
    word = docx.Document()
    word.add_paragraph("EMPLOYMENT STANDARDS")
    paragraph = word.add_paragraph("Education: ")
    paragraph.add_run("Graduation from high school.")
    struck = paragraph.add_run(" Typing at 40 words per minute.")
    struck.font.strike = True
    second = word.add_paragraph()
    double = second.add_run("Old license clause.")
    double.font.double_strike = True
    second.add_run("One year of experience.")
    table = word.add_table(rows=1, cols=1)
    table.rows[0].cells[0].text = "Table cell text."
    path = tmp_path / "spec.docx"
    word.save(str(path))
    document = read_document(path)
    assert document.paragraphs == [
        "EMPLOYMENT STANDARDS",
        "Education: Graduation from high school.",
        "One year of experience.",
        "Table cell text.",
    ]
    assert document.removed == ["Typing at 40 words per minute.", "Old license clause."]


def test_pdf_text_layer_is_read(tmp_path: Path) -> None:
    path = tmp_path / "spec.pdf"
    path.write_bytes(make_pdf(["MINIMUM QUALIFICATIONS", "Two years of experience in plumbing."]))
    document = read_document(path)
    assert document.paragraphs == ["MINIMUM QUALIFICATIONS", "Two years of experience in plumbing."]
    assert document.removed == []


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("spec.rtf", b"{\\rtf1}", "unsupported document type '.rtf'"),
        ("spec.docx", b"not a zip", "not a readable Word .docx file"),
        ("spec.pdf", b"%PDF-1.4 garbage", "PDF"),
        ("spec.txt", b"   \n\n", "no readable text"),
    ],
)
def test_unreadable_documents_get_a_clear_message(name: str, data: bytes, message: str) -> None:
    with pytest.raises(DocumentError, match=message) as info:
        read_document_bytes(data, name)
    assert name in str(info.value)


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="file not found"):
        read_document(tmp_path / "absent.docx")
