"""Decision blocks: one screened chunk stored as compressed columns, hashed column-wise.

A block holds a chunk's decisions in three parts:

- ``kept``: applicant id, input row, outcome and each criterion's status; kept after the
  end of retention (the aggregate report needs them);
- ``private``: what the decision showed (pattern, years, the principal reasons and
  conditions as shown, each criterion's reason and values) and the normalised input the
  decision was made on (applicant fields, job rows, education rows), without ``eeo_*``;
  removed by a purge;
- ``leaves``: per decision, the SHA-256 of its kept row and of its private rows (64 bytes).

``kept`` is an Arrow IPC stream compressed with zstd. ``private`` is cut into batches of
decisions (``BATCH``), so a lookup decodes one batch: format 4 compresses each batch of
every private table as one zstd frame (a few frames per block, each holding plain Arrow
IPC streams); format 3 kept one Arrow IPC file per table, zstd per buffer (hundreds of
small compressions per block). Both read here. A row's hash covers every field of
the row joined by separators no plain value holds (a column with a value that holds one is
framed by lengths instead; floats go by their IEEE bits), so no edit can move text from
one field into another. The chain record
of a block covers the SHA-256 of its ``leaves``: the recomputed leaves say which decision
was altered, and the chained digest says whether the leaves themselves were rewritten.

The eeo answers of a block are a separate Arrow stream (position in the block, then each
``eeo_*`` column), stored apart and read only by the impact report.

This module loads neither SQLAlchemy nor Alembic: workers build blocks.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

#: the format new blocks are written in, and every block format this release reads
BLOCK_FORMAT = 4
BLOCK_FORMATS = (3, 4)
STATUS_PREFIX = "status:"
REASON_PREFIX = "reason:"
FACT_PREFIX = "fact:"
OWNER = "owner"
#: decisions per batch of the private columns: what a lookup decodes (a format-4 block
#: names its own; 2,048 compresses a few per cent better than 1,024 at the same speed)
BATCH = 2048
#: the batch of every format-3 block
FORMAT_3_BATCH = 1024
_LEAF = 32
# one thread: blocks are built in worker processes that already use every core
# (zstd level 1: most of the size gain at a fraction of the time of higher levels)
_IPC_OPTIONS = pa.ipc.IpcWriteOptions(
    compression=pa.Codec("zstd", compression_level=1), use_threads=False
)
_IPC_READ = pa.ipc.IpcReadOptions(use_threads=False)
_IPC_PLAIN = pa.ipc.IpcWriteOptions(use_threads=False)
_LENGTH = struct.Struct("<Q")
#: a format-4 private blob starts with this, then the batch size (8 bytes); a format-3
#: blob starts with the 8-byte length of its first Arrow file, whose high bytes are zero
_FRAMED = b"\x89SBLK4\r\n"
#: each frame: its compressed size, its size when decompressed
_FRAME_HEAD = struct.Struct("<QQ")
_FRAME_CODEC = pa.Codec("zstd", compression_level=1)
#: separators of the hashed row texts (no plain value holds one; see _field)
_PART, _ROW, _MISSING, _FRAME, _FIELD = "\x1b", "\x1c", "\x1d", "\x1e", "\x1f"
_LOWEST_SEPARATOR, _SEPARATOR_COUNT = 0x1A, 6


class BlockError(ValueError):
    """A stored block cannot be decoded (its bytes were changed or cut)."""


# ---------------------------------------------------------------- encoding


def to_ipc(table: pa.Table) -> bytes:
    """A table as one zstd-compressed Arrow IPC stream."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema, options=_IPC_OPTIONS) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


def from_ipc(data: bytes) -> pa.Table:
    """A table stored by :func:`to_ipc`."""
    try:
        with pa.ipc.open_stream(pa.py_buffer(data), options=_IPC_READ) as reader:
            return reader.read_all()
    except (pa.ArrowInvalid, pa.ArrowException, OSError) as exc:
        raise BlockError(f"stored columns cannot be decoded ({exc})") from None


def _batches(table: pa.Table, rows: int, batch: int) -> list[pa.Table]:
    """A table cut into pieces of ``batch`` decisions (rows of an ``owner`` table by owner)."""
    starts = list(range(0, max(rows, 1), batch)) + [max(rows, 1)]
    if OWNER in table.column_names:
        owners = table.column(OWNER).to_numpy()
        bounds = np.searchsorted(owners, starts).tolist()
    else:
        bounds = [min(s, table.num_rows) for s in starts]
    return [table.slice(a, b - a) for a, b in zip(bounds, bounds[1:], strict=False)]


def _plain_stream(table: pa.Table) -> pa.Buffer:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema, options=_IPC_PLAIN) as writer:
        writer.write_table(table)
    return sink.getvalue()


def pack(tables: Sequence[pa.Table], rows: int) -> bytes:
    """The private tables of a block of ``rows`` decisions in one blob (format 4).

    Every table is cut at the same decisions (BATCH of them a batch); each batch, its
    piece of every table as a plain Arrow IPC stream after its 8-byte length, is one zstd
    frame, so one decision's batch can be read alone. One compression per batch instead
    of one per column buffer: most of the time went into starting compressions.
    """
    batch_size = BATCH
    pieces = [_batches(table, rows, batch_size) for table in tables]
    parts = [_FRAMED, _LENGTH.pack(batch_size)]
    for batch in zip(*pieces, strict=True):
        raw = []
        for piece in batch:
            stream = _plain_stream(piece)
            raw.append(_LENGTH.pack(stream.size))
            raw.append(stream)
        frame = pa.py_buffer(b"".join(raw))
        compressed = _FRAME_CODEC.compress(frame, asbytes=True)
        parts.append(_FRAME_HEAD.pack(len(compressed), frame.size))
        parts.append(compressed)
    return b"".join(parts)


def _frames(blob: bytes) -> tuple[int, list[tuple[int, int, int]]]:
    """A format-4 blob's batch size and its frames: (offset, compressed size, raw size)."""
    start = len(_FRAMED)
    if len(blob) < start + _LENGTH.size:
        raise BlockError("stored columns are cut short")
    (batch,) = _LENGTH.unpack_from(blob, start)
    if batch < 1:
        raise BlockError("stored columns name no batch size")
    offset = start + _LENGTH.size
    frames = []
    while offset < len(blob):
        if offset + _FRAME_HEAD.size > len(blob):
            raise BlockError("stored columns are cut short")
        size, raw = _FRAME_HEAD.unpack_from(blob, offset)
        offset += _FRAME_HEAD.size
        if offset + size > len(blob):
            raise BlockError("stored columns are cut short")
        frames.append((offset, size, raw))
        offset += size
    return int(batch), frames


def _frame_tables(blob: bytes, frame: tuple[int, int, int]) -> list[pa.Table]:
    """The pieces of every private table held by one frame."""
    offset, size, raw = frame
    data = _FRAME_CODEC.decompress(
        pa.py_buffer(blob)[offset : offset + size], decompressed_size=raw
    )
    return [pa.ipc.open_stream(part, options=_IPC_READ).read_all() for part in _parts(data)]


def _parts(blob: bytes | pa.Buffer) -> list[pa.Buffer]:
    parts = []
    offset = 0
    buffer = blob if isinstance(blob, pa.Buffer) else pa.py_buffer(blob)
    while offset < buffer.size:
        if offset + _LENGTH.size > buffer.size:
            raise BlockError("stored columns are cut short")
        (size,) = _LENGTH.unpack_from(buffer, offset)
        offset += _LENGTH.size
        if offset + size > buffer.size:
            raise BlockError("stored columns are cut short")
        parts.append(buffer.slice(offset, size))
        offset += size
    return parts


def unpack(blob: bytes) -> list[pa.Table]:
    """The tables of a private blob (format 4, or format 3: one Arrow file per table)."""
    try:
        if blob.startswith(_FRAMED):
            _, frames = _frames(blob)
            batches = [_frame_tables(blob, frame) for frame in frames]
            if not batches or len({len(b) for b in batches}) != 1:
                raise BlockError("stored columns hold no consistent set of tables")
            return [pa.concat_tables(pieces) for pieces in zip(*batches, strict=True)]
        return [pa.ipc.open_file(part, options=_IPC_READ).read_all() for part in _parts(blob)]
    except (pa.ArrowInvalid, pa.ArrowException, OSError, struct.error) as exc:
        raise BlockError(f"stored columns cannot be decoded ({exc})") from None


def unpack_one(blob: bytes, position: int) -> list[pa.Table]:
    """One decision's rows of each table of a private blob, reading only the batch that
    holds it; ``owner`` set to 0."""
    tables = []
    try:
        if blob.startswith(_FRAMED):
            batch, frames = _frames(blob)
            number, row = divmod(position, batch)
            pieces = _frame_tables(blob, frames[number])
        else:
            number, row = divmod(position, FORMAT_3_BATCH)
            pieces = [
                pa.Table.from_batches([pa.ipc.open_file(part, options=_IPC_READ).get_batch(number)])
                for part in _parts(blob)
            ]
        for piece in pieces:
            if OWNER in piece.column_names:
                piece = piece.filter(pc.equal(piece.column(OWNER), position))
                where = piece.column_names.index(OWNER)
                zeros = pa.array(np.zeros(piece.num_rows, dtype=np.int32))
                piece = piece.set_column(where, OWNER, zeros)
            else:
                piece = piece.slice(row, 1)
            tables.append(piece)
    except (pa.ArrowInvalid, pa.ArrowException, OSError, IndexError, struct.error) as exc:
        raise BlockError(f"stored columns cannot be decoded ({exc})") from None
    return tables


def text_array(values: Sequence[Any]) -> pa.Array:
    """Python values as an Arrow string array (None stays missing)."""
    return pa.array(values, type=pa.string())


# ---------------------------------------------------------------- hashing


def _as_text(column: pa.Array | pa.ChunkedArray) -> tuple[pa.Array, bool]:
    """A column as text for hashing, and whether it was text already: floats go by their
    IEEE bits, so no number formatting can drift between releases."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    kind = array.type
    if pa.types.is_dictionary(kind):
        array = array.cast(kind.value_type)
        kind = array.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return array, True
    if pa.types.is_floating(kind):
        array = array.cast(pa.float64()).view(pa.int64())
    return pc.cast(array, pa.string()), False


def _offsets(array: pa.Array) -> np.ndarray[Any, Any]:
    """Where each value of a string or binary array starts in its data buffer, then where
    the last one ends (len(array) + 1 numbers, the array's own slice of the offsets)."""
    large = pa.types.is_large_string(array.type) or pa.types.is_large_binary(array.type)
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int64 if large else np.int32)
    return offsets[array.offset : array.offset + len(array) + 1]


def _holds_separator(array: pa.Array) -> bool:
    """Whether any value of a string array holds a separator (U+001A-U+001F).

    Scans the bytes the values occupy (not the whole buffer: a slice shares it with
    values outside the slice, which must not change how this slice is hashed). In UTF-8
    these code points are single bytes that no other character's encoding contains.
    """
    data = array.buffers()[2]
    if data is None or len(array) == 0:
        return False
    offsets = _offsets(array)
    values = np.frombuffer(data, dtype=np.uint8)[int(offsets[0]) : int(offsets[-1])]
    if not len(values) or values.min() >= _LOWEST_SEPARATOR + _SEPARATOR_COUNT:
        return False  # no control character at all: the usual case, one fast pass
    # bytes below U+001A wrap around to large values
    return bool(((values - np.uint8(_LOWEST_SEPARATOR)) < _SEPARATOR_COUNT).any())


def _field(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    """A column's values as fields of a row text.

    A column none of whose values holds a separator (U+001A-U+001F) goes as it is; any
    other column has every value framed: U+001E, its byte length, ':', the value (missing:
    U+001E '-'). A plain value never starts with U+001E, so the two cannot be confused,
    and a framed value's extent is its length, whatever it holds.
    """
    array, text = _as_text(column)
    if not text or not _holds_separator(array):
        return array
    lengths = pc.cast(pc.binary_length(array), pa.string())
    prefix = pc.binary_join_element_wise(pa.scalar(_FRAME), lengths, "")
    return pc.fill_null(pc.binary_join_element_wise(prefix, array, ":"), _FRAME + "-")


def row_texts(columns: Sequence[pa.Array | pa.ChunkedArray], rows: int) -> pa.Array:
    """Per row, its fields joined by U+001F, a missing value as U+001D: the text a row's
    hash covers."""
    if not columns:
        return pa.array([""] * rows, type=pa.string())
    return pc.binary_join_element_wise(
        *[_field(c) for c in columns],
        _FIELD,
        null_handling="replace",
        null_replacement=_MISSING,
    )


def grouped_texts(texts: pa.Array, owners: np.ndarray[Any, Any], groups: int) -> pa.Array:
    """Per group (decision), its rows' texts joined by U+001C, in row order.

    ``owners`` holds each row's group, ascending.
    """
    bounds = np.searchsorted(owners, np.arange(groups + 1)).astype(np.int32)
    lists = pa.ListArray.from_arrays(pa.array(bounds), texts)
    return pc.fill_null(pc.binary_join(lists, _ROW), "")


def table_texts(table: pa.Table) -> pa.Array:
    """Per row of a table, the text its hash covers (every column, in order)."""
    return row_texts(table.columns, table.num_rows)


def private_texts(tables: Sequence[pa.Table], rows: int) -> pa.Array:
    """Per decision, the text over its private rows: the decision table's row, then for
    each further table (applicant, jobs, education; ``owner`` column = position) its rows,
    the parts joined by U+001B."""
    parts = []
    for table in tables:
        if OWNER in table.column_names:
            owners = table.column(OWNER).to_numpy()
            rest = table.drop_columns([OWNER])
            parts.append(grouped_texts(table_texts(rest), owners, rows))
        else:
            if table.num_rows != rows:
                raise BlockError(f"a stored table has {table.num_rows} rows for {rows} decisions")
            parts.append(table_texts(table))
    if not parts:
        return pa.array([""] * rows, type=pa.string())
    return pc.binary_join_element_wise(*parts, _PART)


def digests(texts: pa.Array | pa.ChunkedArray) -> list[bytes]:
    """SHA-256 of each text (a missing text hashes as the empty one)."""
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    if texts.null_count:
        texts = texts.fill_null("")
    sha256 = hashlib.sha256
    data = texts.buffers()[2]
    if data is None or len(texts) == 0:
        return [sha256(b"").digest() for _ in range(len(texts))]
    bounds = _offsets(texts).tolist()
    # slices of one view of the values: no Python bytes object per text
    values = memoryview(data)
    return [sha256(values[a:b]).digest() for a, b in zip(bounds, bounds[1:], strict=False)]


def leaves_of(
    kept: pa.Table, private: Sequence[pa.Table] | None
) -> tuple[list[bytes], list[bytes]]:
    """The kept and private leaf hashes of each decision of a block (private: [] if None)."""
    rows = kept.num_rows
    kept_leaves = digests(table_texts(kept))
    private_leaves = [] if private is None else digests(private_texts(private, rows))
    return kept_leaves, private_leaves


def join_leaves(kept: list[bytes], private: list[bytes]) -> bytes:
    """The stored leaves: each decision's kept leaf, then its private leaf."""
    return b"".join(k + p for k, p in zip(kept, private, strict=True))


def split_leaves(blob: bytes) -> tuple[list[bytes], list[bytes]]:
    """Stored leaves back into the kept and the private leaf of each decision."""
    if len(blob) % (2 * _LEAF):
        raise BlockError("the stored leaf hashes are cut short")
    pairs = [blob[i : i + 2 * _LEAF] for i in range(0, len(blob), 2 * _LEAF)]
    return [p[:_LEAF] for p in pairs], [p[_LEAF:] for p in pairs]


def leaves_sha256(blob: bytes) -> str:
    """What a block's chain record covers: the SHA-256 of its stored leaves."""
    return hashlib.sha256(blob).hexdigest()


def block_content(first: int, count: int, leaves_hash: str) -> str:
    """The content of a block's chain record: its place in the run and its leaves' hash."""
    return f"{first}\x1f{count}\x1f{leaves_hash}"


@dataclass(frozen=True)
class BlockCheck:
    """What checking one stored block found: positions of altered decisions, or why the
    block could not be read at all."""

    kept_edited: list[int]
    private_edited: list[int]
    unreadable: str | None = None
    #: the applicant id at each altered position (as stored now)
    applicants: dict[int, str] | None = None


def check_block(kept_blob: bytes, private_blob: bytes | None, leaves_blob: bytes) -> BlockCheck:
    """Recompute a block's leaves from its stored columns and compare them to its leaves.

    Pure (picklable arguments and result): verify runs it in worker processes.
    """
    try:
        stored_kept, stored_private = split_leaves(leaves_blob)
        kept = from_ipc(kept_blob)
        private = None if private_blob is None else unpack(private_blob)
        kept_leaves, private_leaves = leaves_of(kept, private)
    except (BlockError, pa.ArrowException, ValueError) as exc:
        return BlockCheck([], [], str(exc))
    if len(kept_leaves) != len(stored_kept):
        return BlockCheck(
            [], [], f"it holds {len(kept_leaves)} decisions but {len(stored_kept)} leaf hashes"
        )
    kept_edited = [
        i for i, (a, b) in enumerate(zip(kept_leaves, stored_kept, strict=True)) if a != b
    ]
    private_edited = [
        i for i, (a, b) in enumerate(zip(private_leaves, stored_private, strict=False)) if a != b
    ]
    named: dict[int, str] = {}
    if kept_edited or private_edited:
        ids = kept.column("applicant_id").to_pylist()
        named = {i: str(ids[i]) for i in (*kept_edited, *private_edited)}
    return BlockCheck(kept_edited, private_edited, None, named)
