"""The column-wise encoding and hashing of decision blocks: every fast path gives what the
value-by-value definition gives."""

from __future__ import annotations

import enum
import hashlib

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from screening.audit.blocks import (
    OWNER,
    BlockError,
    digests,
    pack,
    row_texts,
    unpack,
    unpack_one,
)
from screening.audit.prepare import (
    PrepareError,
    _eeo_block,
    _optional_str_array,
    _str_array,
    coded_reasons,
    shown_reasons,
)


def test_a_slice_is_hashed_by_its_own_values_not_its_neighbours() -> None:
    whole = pa.array(["held\x1fapart", "plain", "text"])
    alone = pa.array(["plain", "text"])
    assert row_texts([whole.slice(1, 2)], 2).to_pylist() == row_texts([alone], 2).to_pylist()


def test_a_value_holding_a_separator_cannot_pose_as_two_fields() -> None:
    one_field = row_texts([pa.array(["a\x1fb"])], 1).to_pylist()
    two_fields = row_texts([pa.array(["a"]), pa.array(["b"])], 1).to_pylist()
    assert one_field != two_fields
    assert one_field == ["\x1e3:a\x1fb"]


@pytest.mark.parametrize("separator", ["\x1a", "\x1b", "\x1c", "\x1d", "\x1e", "\x1f"])
def test_every_separator_frames_its_column(separator: str) -> None:
    assert row_texts([pa.array([f"x{separator}"])], 1).to_pylist() == [f"\x1e2:x{separator}"]


def test_characters_next_to_the_separators_go_unframed() -> None:
    values = ["\x19 before", "  after", "é ü ✓ 漢字"]
    assert row_texts([pa.array(values)], 3).to_pylist() == values


def test_digests_of_a_slice_with_missing_texts() -> None:
    texts = pa.array(["skip", "one", None, "", "three"]).slice(1, 4)
    expected = [hashlib.sha256(t.encode()).digest() for t in ["one", "", "", "three"]]
    assert digests(texts) == expected
    assert digests(pa.chunked_array([texts])) == expected
    assert digests(pa.array([], type=pa.string())) == []


# a str mixin on purpose: its str() is "_Mixed.met", not its text
class _Mixed(str, enum.Enum):  # noqa: UP042
    met = "met"


def test_text_columns_are_str_of_each_value_whatever_path_is_taken() -> None:
    objects = np.array(["met", "review", "é"], dtype=object)
    assert _str_array(objects).to_pylist() == ["met", "review", "é"]
    arrow_backed = pd.Series(["a", "b"], dtype=pd.StringDtype("pyarrow"))
    assert _str_array(arrow_backed).to_pylist() == ["a", "b"]
    odd = np.array([_Mixed.met, None, 3], dtype=object)
    assert _str_array(odd).to_pylist() == [str(_Mixed.met), "None", "3"]
    assert _str_array(pd.Series(["a", None], dtype=object)).to_pylist() == ["a", "None"]


def test_optional_text_keeps_missing_answers_missing() -> None:
    series = pd.Series(["Female", None, np.nan, "Male", 7], dtype=object)
    assert _optional_str_array(series).to_pylist() == ["Female", None, None, "Male", "7"]


def test_the_eeo_block_does_not_depend_on_the_order_of_the_answers() -> None:
    ids = ["a1", "a2", "a3"]
    answers = pd.DataFrame(
        {
            "applicant_id": ids,
            "eeo_sex": ["Female", None, "Male"],
            "eeo_race_ethnicity": ["Asian", "White", None],
        }
    )
    in_order = _eeo_block(answers, ids)
    shuffled = _eeo_block(answers.iloc[[2, 0, 1]].reset_index(drop=True), ids)
    assert in_order is not None and in_order == shuffled


# ---------------------------------------------------------------- format 4


def _coded(shown: list[str | None], own: list[list[str | None]]) -> tuple[list, list]:
    arrays = [pa.array(o, pa.string()) for o in own]
    text, codes = coded_reasons(pa.array(shown, pa.string()), arrays)
    return text.to_pylist(), codes.to_pylist()


def test_principal_reasons_made_of_own_reasons_are_stored_as_their_numbers() -> None:
    education = ["edu: met", "edu: missing", "edu: x | y"]
    experience = ["exp: 4 of 3", "exp: 0 of 3", "exp: 1 of 3"]
    shown = [
        "edu: met | exp: 4 of 3",  # both, in layout order
        "exp: 0 of 3 | edu: missing",  # failures first: another order
        "edu: x | y",  # a reason holding the separator: kept as text, still exact
    ]
    text, codes = _coded(shown, [education, experience])
    assert codes == ["0,1", "1,0", None]
    assert text == [None, None, "edu: x | y"]


def test_principal_reasons_with_any_other_part_keep_their_text() -> None:
    own = [["edu: met", "edu: met"], ["exp: 0 of 3", "exp: 0 of 3"]]
    shown = ["closest pattern: B | exp: 0 of 3", "exp: 0 of 3 | edu: met "]
    text, codes = _coded(shown, own)
    assert text == shown and codes == [None, None]


def test_a_reason_of_another_decision_is_not_taken_for_ones_own() -> None:
    own = [["edu: met", "edu: not met"]]
    text, codes = _coded(["edu: not met", "edu: met"], own)
    assert text == ["edu: not met", "edu: met"] and codes == [None, None]


def test_coded_rows_store_no_text_under_their_missing_value() -> None:
    own = [["a" * 1000] * 50]
    text, _ = coded_reasons(pa.array(["a" * 1000] * 50), [pa.array(own[0])])
    assert text.null_count == 50 and text.buffers()[2].size == 0


texts = st.text(alphabet=st.sampled_from(["a", "b", " ", "|", "é"]), max_size=12)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(texts, texts, st.lists(st.integers(0, 2), max_size=4)), max_size=8))
def test_stored_principal_reasons_read_back_as_shown(
    rows: list[tuple[str, str, list[int]]],
) -> None:
    own = [[a for a, _, _ in rows], [b for _, b, _ in rows]]
    # some rows joined from their own reasons, the rest (number 2) a literal text
    shown = [" | ".join([a, b, "literal"][n] for n in picks) for a, b, picks in rows]
    text, codes = _coded(shown, own)
    for i, expected in enumerate(shown):
        assert shown_reasons(text[i], codes[i], [own[0][i], own[1][i]]) == expected
        assert (text[i] is None) != (codes[i] is None)


def test_codes_naming_no_criterion_are_refused() -> None:
    with pytest.raises(PrepareError, match="name no criterion"):
        shown_reasons(None, "0,3", ["a", "b"])
    with pytest.raises(PrepareError, match="name no criterion"):
        shown_reasons(None, "x", ["a"])


def _tables(rows: int) -> list[pa.Table]:
    owners = np.repeat(np.arange(rows, dtype=np.int32), 2)
    return [
        pa.table({"reason": [f"reason {i}" for i in range(rows)]}),
        pa.table({OWNER: owners, "title": [f"job {i}" for i in range(len(owners))]}),
    ]


@pytest.mark.parametrize("rows", [1, 5, 1024, 2500])
def test_a_packed_block_reads_back_whole_and_one_decision_at_a_time(rows: int) -> None:
    tables = _tables(rows)
    blob = pack(tables, rows)
    assert [t.to_pylist() for t in unpack(blob)] == [t.to_pylist() for t in tables]
    for position in {0, rows // 2, rows - 1}:
        reason, jobs = unpack_one(blob, position)
        assert reason.to_pylist() == [{"reason": f"reason {position}"}]
        assert jobs.column("title").to_pylist() == [
            f"job {2 * position}",
            f"job {2 * position + 1}",
        ]


def test_a_cut_or_garbled_block_is_a_block_error() -> None:
    blob = pack(_tables(3000), 3000)
    for broken in (blob[:-10], blob[:40], blob[:30] + b"\0" * (len(blob) - 30)):
        with pytest.raises(BlockError):
            unpack(broken)
        with pytest.raises(BlockError):
            unpack_one(broken, 2999)
