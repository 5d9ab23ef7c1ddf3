"""Reading class specification documents into paragraphs of live text.

A class specification arrives as plain text or Markdown, HTML (often exported from Word),
a Word ``.docx`` file or a PDF. Whatever the format, the compiler needs the same thing: the
document's paragraphs in order, with struck-through (deleted) text taken out and kept apart
so an auditor can see what the revision removed.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from screening.errors import UserError

SUPPORTED_SUFFIXES = (".txt", ".md", ".html", ".htm", ".docx", ".pdf")

_SPACES = re.compile(r"\s+")
_MD_STRIKE = re.compile(r"~~(.+?)~~", re.DOTALL)
_MD_PREFIX = re.compile(r"^\s*(?:(?:#{1,6}\s+|[-*+]\s+|>\s*)\s*)+")
#: Markdown emphasis ("**bold**", "__bold__") marks type, not words.
_MD_EMPHASIS = re.compile(r"\*\*|__")


class DocumentError(UserError):
    """A document that cannot be read; the message says which file, why and what to do."""


@dataclass
class Document:
    """A document's live paragraphs, its struck-through text and its identity."""

    name: str
    sha256: str
    paragraphs: list[str]
    removed: list[str] = field(default_factory=list)


def clean_text(text: str) -> str:
    """Fold white space (including non-breaking spaces and soft hyphens) into single spaces."""
    text = text.replace("\u00ad", "").replace("\u00a0", " ")
    return _SPACES.sub(" ", text).strip()


def read_document(path: str | Path) -> Document:
    """Read a class specification from a .txt, .md, .html, .htm, .docx or .pdf file."""
    doc_path = Path(path)
    suffix = doc_path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise DocumentError(
            f"{doc_path}: unsupported document type {suffix or '(no extension)'!r}; "
            f"save it as one of {', '.join(SUPPORTED_SUFFIXES)}"
        )
    try:
        data = doc_path.read_bytes()
    except FileNotFoundError as exc:
        raise DocumentError(f"{doc_path}: file not found; check the path") from exc
    except IsADirectoryError as exc:
        raise DocumentError(f"{doc_path}: is a folder, not a document") from exc
    except OSError as exc:
        raise DocumentError(f"{doc_path}: cannot read the file ({exc.strerror})") from exc
    return read_document_bytes(data, doc_path.name)


def read_document_bytes(data: bytes, name: str) -> Document:
    """Read a document already in memory; ``name`` (with its extension) chooses the format."""
    suffix = Path(name).suffix.lower()
    digest = hashlib.sha256(data).hexdigest()
    if suffix in (".txt", ".md"):
        paragraphs, removed = _read_text(_decode(data, name))
    elif suffix in (".html", ".htm"):
        paragraphs, removed = _read_html(data)
    elif suffix == ".docx":
        paragraphs, removed = _read_docx(data, name)
    elif suffix == ".pdf":
        paragraphs, removed = _read_pdf(data, name)
    else:
        raise DocumentError(
            f"{name}: unsupported document type {suffix or '(no extension)'!r}; "
            f"save it as one of {', '.join(SUPPORTED_SUFFIXES)}"
        )
    if not any(paragraphs):
        raise DocumentError(
            f"{name}: the document has no readable text (a scanned PDF has no text layer; "
            "export it with text or save it as .docx/.txt)"
        )
    return Document(name=name, sha256=digest, paragraphs=paragraphs, removed=removed)


def _decode(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise DocumentError(
            f"{name}: the text is neither UTF-8 nor Windows-1252 (byte {exc.start}); "
            "save it as UTF-8"
        ) from exc


#: "b. performing ...": a lettered item starts its own paragraph, lower case or not.
_ITEM_START = re.compile(r"^(?:[a-h]|[ivx]{1,4})[.)]\s")


def _join_wrapped_lines(lines: list[str]) -> list[str]:
    """Lines to paragraphs: a line that continues a sentence (lower-case start) joins the last."""
    paragraphs: list[str] = []
    previous_blank = True
    for raw in lines:
        line = clean_text(raw)
        if not line:
            previous_blank = True
            continue
        if (
            paragraphs
            and not previous_blank
            and line[0].islower()
            and not paragraphs[-1].endswith((".", ":", ";", "?", "!"))
            and not _ITEM_START.match(line)
        ):
            paragraphs[-1] = f"{paragraphs[-1]} {line}"
        else:
            paragraphs.append(line)
        previous_blank = False
    return paragraphs


def _read_text(text: str) -> tuple[list[str], list[str]]:
    removed = [clean_text(m.group(1)) for m in _MD_STRIKE.finditer(text)]
    live = _MD_STRIKE.sub(" ", text)
    lines = [_MD_EMPHASIS.sub("", _MD_PREFIX.sub("", line)) for line in live.splitlines()]
    return _join_wrapped_lines(lines), [r for r in removed if r]


# --- HTML -------------------------------------------------------------------------------

_BLOCK_TAGS = {
    "p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "td", "th", "tr", "table",
    "ul", "ol", "blockquote", "pre", "section", "article", "body", "dd", "dt", "dl",
    "center", "address", "header", "footer", "main", "tbody", "thead",
}  # fmt: skip
_STRIKE_TAGS = {"s", "strike", "del"}
_LINE_THROUGH = re.compile(r"text-decoration(?:-line)?\s*:[^;]*line-through", re.IGNORECASE)


def _read_html(data: bytes) -> tuple[list[str], list[str]]:
    import lxml.html
    from lxml import etree

    try:
        root = lxml.html.document_fromstring(data)
    except (etree.ParserError, ValueError):
        return [], []
    removed: list[str] = []
    paragraphs: list[str] = []
    buffer: list[str] = []

    def flush() -> None:
        text = clean_text("".join(buffer))
        if text:
            paragraphs.append(text)
        buffer.clear()

    def is_struck(element: etree._Element) -> bool:
        tag = element.tag.lower() if isinstance(element.tag, str) else ""
        style = element.get("style") or ""
        classes = (element.get("class") or "").lower().split()
        # Word marks tracked deletions with class msoDel (styled line-through).
        return tag in _STRIKE_TAGS or bool(_LINE_THROUGH.search(style)) or "msodel" in classes

    def skipped(element: etree._Element) -> bool:
        if not isinstance(element.tag, str):  # comments and processing instructions
            return True
        if element.tag.lower() in ("script", "style", "head", "title", "meta", "xml"):
            return True
        # Word's review comments ("[SA1] Will employees ...") are not part of the document.
        classes = (element.get("class") or "").lower()
        return classes.startswith("msocom")

    def walk(element: etree._Element) -> None:
        for child in element:
            if skipped(child):
                pass
            elif is_struck(child):
                text = clean_text(child.text_content())
                if text:
                    removed.append(text)
            else:
                tag = child.tag.lower()
                if tag == "br":
                    flush()
                elif tag in _BLOCK_TAGS:
                    flush()
                    buffer.append(child.text or "")
                    walk(child)
                    flush()
                else:
                    buffer.append(child.text or "")
                    walk(child)
            if child.tail:
                buffer.append(child.tail)

    body = root.find("body")
    start = body if body is not None else root
    buffer.append(start.text or "")
    walk(start)
    flush()
    # A <br> inside a sentence splits it in two; a lower-case continuation rejoins it.
    return _join_wrapped_lines(paragraphs), removed


# --- Word -------------------------------------------------------------------------------


def _read_docx(data: bytes, name: str) -> tuple[list[str], list[str]]:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, KeyError, ValueError, OSError) as exc:
        raise DocumentError(
            f"{name}: not a readable Word .docx file ({exc}); open it in Word and save as .docx"
        ) from exc
    except Exception as exc:  # a corrupt zip raises several unrelated types
        raise DocumentError(
            f"{name}: not a readable Word .docx file ({type(exc).__name__}); "
            "open it in Word and save it again as .docx"
        ) from exc
    paragraphs: list[str] = []
    removed: list[str] = []
    for paragraph in _docx_paragraphs(document):
        live: list[str] = []
        struck: list[str] = []
        for run in paragraph.runs:
            if run.font.strike or run.font.double_strike:
                struck.append(run.text)
            else:
                if struck:
                    removed.append(clean_text("".join(struck)))
                    struck = []
                live.append(run.text)
        if struck:
            removed.append(clean_text("".join(struck)))
        for line in "".join(live).split("\n"):
            text = clean_text(line)
            if text:
                paragraphs.append(text)
    return paragraphs, [r for r in removed if r]


def _docx_paragraphs(document: Any) -> Iterator[Any]:
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    body = document.element.body
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            yield Paragraph(child, document)
        elif tag == "tbl":
            table = Table(child, document)
            for row in table.rows:
                for cell in row.cells:
                    yield from cell.paragraphs


# --- PDF --------------------------------------------------------------------------------


def _read_pdf(data: bytes, name: str) -> tuple[list[str], list[str]]:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PyPdfError, ValueError, KeyError, OSError) as exc:
        raise DocumentError(
            f"{name}: not a readable PDF ({exc}); export it again or save it as .docx"
        ) from exc
    lines: list[str] = []
    for page in pages:
        lines.extend(page.splitlines())
        lines.append("")
    # A PDF text layer has no strike-through; nothing can be reported as removed.
    return _join_wrapped_lines(lines), []
