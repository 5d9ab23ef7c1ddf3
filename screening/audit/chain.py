"""The hash chain: record digests and the links that tie them in order.

A record's digest covers its kind, its sequence number, its parent (the run of a decision)
and the digest of its content; its link is SHA-256(previous link || digest), or
HMAC-SHA256 under ``SCREENING_AUDIT_KEY`` so that nobody without the key can rebuild the
chain. The chain links digests, never the data: purged applicant data leaves every link
verifiable.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from json.encoder import encode_basestring_ascii as _quoted  # what json.dumps(str) returns
from typing import Any

import pydantic_core

GENESIS_LINK = "0" * 64
KEY_ENV = "SCREENING_AUDIT_KEY"


def canonical_json(value: Any) -> str:
    """Stable JSON text: sorted keys, no spaces, UTF-8 kept; the form that is hashed."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def compact_json(value: Any) -> bytes:
    """Compact JSON bytes in the value's own key order (fast; for bulk per-applicant data).

    The stored text is what gets hashed, so key order only has to be stable, not sorted.
    """
    return pydantic_core.to_json(value, inf_nan_mode="null", fallback=str)


def sha256_bytes(data: bytes) -> str:
    """SHA-256 hex digest of bytes."""
    return hashlib.sha256(data).hexdigest()


def sha256_text(text: str) -> str:
    """SHA-256 hex digest of a text's UTF-8 bytes."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def content_digest(fields: Any) -> str:
    """Digest of a record's content (its fields as canonical JSON)."""
    return sha256_text(canonical_json(fields))


def _record_text(kind: str, seq: int, parent: int | None, content: str) -> str:
    return f"{kind}\x1f{seq}\x1f{'' if parent is None else parent}\x1f{content}"


def record_digest(kind: str, seq: int, parent: int | None, content: str) -> str:
    """Digest that places a record's content at its position in the log."""
    return sha256_text(_record_text(kind, seq, parent, content))


def decision_content(
    applicant_id: str,
    row_number: int,
    outcome: str,
    statuses_json: str,
    detail_sha256: str,
    input_sha256: str,
) -> str:
    """Content digest of a decision record (what its chain record covers)."""
    # the applicant id is JSON-quoted so no value can fake a field separator
    return sha256_text(
        f"{_quoted(applicant_id)}\x1f{row_number}\x1f{outcome}\x1f{statuses_json}"
        f"\x1f{detail_sha256}\x1f{input_sha256}"
    )


def eeo_digest_line(applicant_id: str, data_json: str) -> bytes:
    """One line of a run's eeo digest: an applicant's id and self-identification JSON."""
    return compact_json([applicant_id, data_json]) + b"\n"


def key_id(key: bytes) -> str:
    """A short fingerprint of the key, to tell a wrong key from a tampered chain."""
    return hmac.new(key, b"screening audit key id", hashlib.sha256).hexdigest()[:16]


class Linker:
    """Computes links, with or without a key."""

    def __init__(self, key: bytes | None) -> None:
        self.key = key

    def chain(
        self, previous: str, kind: str, first_seq: int, parent: int | None, contents: list[str]
    ) -> tuple[list[str], list[str]]:
        """Record digests and links of consecutive records of one kind and parent.

        The same values as ``record_digest`` and ``link`` one by one, with the hex
        conversions of the running link kept out of the loop.
        """
        sha256, key = hashlib.sha256, self.key
        running = bytes.fromhex(previous)
        digests: list[str] = []
        links: list[str] = []
        for seq, content in enumerate(contents, first_seq):
            digest = sha256(_record_text(kind, seq, parent, content).encode()).digest()
            if key is None:
                running = sha256(running + digest).digest()
            else:
                running = hmac.new(key, running + digest, hashlib.sha256).digest()
            digests.append(digest.hex())
            links.append(running.hex())
        return digests, links

    def link(self, previous: str, digest: str) -> str:
        """The link of a record whose digest follows the given link."""
        message = bytes.fromhex(previous) + bytes.fromhex(digest)
        if self.key is None:
            return hashlib.sha256(message).hexdigest()
        return hmac.new(self.key, message, hashlib.sha256).hexdigest()
