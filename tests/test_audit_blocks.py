"""The column-wise encoding and hashing of decision blocks: every fast path gives what the
value-by-value definition gives."""

from __future__ import annotations

import enum
import hashlib

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from screening.audit.blocks import digests, row_texts
from screening.audit.prepare import _eeo_block, _optional_str_array, _str_array


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
