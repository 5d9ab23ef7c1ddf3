"""Showing applicant- and file-supplied text in Streamlit's Markdown as the text itself."""

from __future__ import annotations

import re

# Characters Markdown, Streamlit's directives (":red[...]", ":material/x:") or LaTeX
# ("$...$") could read as markup; a colon only where a directive could start.
_MARKUP = re.compile(r"([\\`*_\[\]<>!$~#|]|:(?=[A-Za-z]))")


def plain(text: object) -> str:
    """Text with every markup character backslash-escaped, so it renders as written."""
    return _MARKUP.sub(r"\\\1", str(text)).replace("\n", " ")


def unescape(markdown: str) -> str:
    """What `plain` escaped, as the reader sees it."""
    return re.sub(r"\\(.)", r"\1", markdown)
