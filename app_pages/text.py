"""Showing applicant- and file-supplied text in Streamlit's Markdown as the text itself."""

from __future__ import annotations

import re
from datetime import UTC, datetime

# Characters Markdown, Streamlit's directives (":red[...]", ":material/x:") or LaTeX
# ("$...$") could read as markup; a colon only where a directive could start.
_MARKUP = re.compile(r"([\\`*_\[\]<>!$~#|]|:(?=[A-Za-z]))")


def plain(text: object) -> str:
    """Text with every markup character backslash-escaped, so it renders as written."""
    return _MARKUP.sub(r"\\\1", str(text)).replace("\n", " ")


def unescape(markdown: str) -> str:
    """What `plain` escaped, as the reader sees it."""
    return re.sub(r"\\(.)", r"\1", markdown)


def to_the_second(moment: object) -> str:
    """An ISO timestamp as "YYYY-MM-DD HH:MM:SS UTC" (blank for none; as given when unreadable)."""
    if moment is None or moment == "":
        return ""
    try:
        parsed = datetime.fromisoformat(str(moment).replace("Z", "+00:00"))
    except ValueError:
        return str(moment)
    if parsed.tzinfo is None:
        return parsed.strftime("%Y-%m-%d %H:%M:%S")
    return parsed.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def blank(value: object) -> object:
    """None (or NaN) as an empty cell; anything else unchanged."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return value
