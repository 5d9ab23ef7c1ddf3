"""The column helpers of the evidence and explain stages agree with plain per-row Python.

Each helper is checked against a simple reference on tricky inputs: nothing at all, one
row, empty texts, missing values, repeated and unicode texts, and groups of every size.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pytest

from screening import facts as F
from screening.evidence import _yes_no, combined_codes, distinct, lookup, per_distinct
from screening.explain import (
    _joined_per_applicant,
    _month_texts,
    _rank_codes,
    concat,
    group_rank,
    held_reasons,
)
from screening.results import Status

TEXTS = ["", "Café", "café", "", "naïve – x", "Café", "日本語", "a\x1fb", "Café"]


def objects(values: list[Any]) -> np.ndarray[Any, Any]:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


@pytest.mark.parametrize("values", [[], ["only"], TEXTS, ["x", "", "x", "é", ""]])
def test_distinct_codes_index_the_values_in_order_of_first_appearance(values: list[str]) -> None:
    codes, uniques = distinct(pd.Series(values, dtype=object))
    assert uniques[codes].tolist() == values
    assert uniques.tolist() == list(dict.fromkeys(values))


def test_distinct_keeps_a_missing_value_as_one_more_value() -> None:
    codes, uniques = distinct(pd.Series(["x", None, "x", None], dtype=object))
    assert codes.tolist() == [0, 1, 0, 1]
    assert uniques[0] == "x" and pd.isna(uniques[1])


def test_lookup_calls_the_function_once_per_distinct_text() -> None:
    calls: list[str] = []

    def shout(text: str) -> str:
        calls.append(text)
        return text.upper()

    result = lookup(pd.Series(TEXTS, dtype=object), shout)
    assert result.tolist() == [t.upper() for t in TEXTS]
    assert sorted(calls) == sorted(set(TEXTS))


def test_per_distinct_casts_the_table_and_handles_no_values() -> None:
    assert per_distinct(objects(["1", "22"]), len, np.int64).tolist() == [1, 2]
    assert per_distinct(objects([]), len, np.int64).dtype == np.int64


@pytest.mark.parametrize(
    "columns",
    [
        [[], []],
        [[0], [0]],
        [[0, 0, 1, 1, 0], [0, 1, 0, 1, 0]],
        [[2, 0, 2, 1, 0, 2], [0, 0, 0, 1, 0, 0], [1, 1, 1, 0, 0, 1]],
        [[5, 5, 5], [True, False, True]],
    ],
)
def test_combined_codes_number_each_distinct_combination(columns: list[list[Any]]) -> None:
    arrays = [np.array(c, dtype=np.int64) for c in columns]
    key, first = combined_codes(*arrays)
    rows = list(zip(*columns, strict=True))
    seen: dict[tuple[Any, ...], int] = {}
    for row in rows:
        seen.setdefault(row, len(seen))
    assert key.tolist() == [seen[row] for row in rows]
    assert first.tolist() == [rows.index(combination) for combination in seen]


def test_combined_codes_with_large_codes_do_not_overflow() -> None:
    big = np.arange(300_000, dtype=np.int64)
    key, first = combined_codes(big, big[::-1].copy(), big)
    assert key.tolist() == list(range(300_000))
    assert first.tolist() == list(range(300_000))


def test_yes_no_reads_case_blanks_and_unknown_words() -> None:
    column = pd.Series(["Yes", "", "NO", "n", "maybe", "TRUE", "0", "ｙes"], dtype=object)
    yes, not_no = _yes_no(column)
    assert yes.tolist() == [True, True, False, False, False, True, False, False]
    assert not_no.tolist() == [True, True, False, False, True, True, False, True]


@pytest.mark.parametrize(
    "parts",
    [
        ("a", objects([]), "b"),
        (objects(["x"]),),
        ("head: ", objects(TEXTS), " – ", objects(list(reversed(TEXTS))), "!"),
    ],
)
def test_concat_is_element_wise_addition(parts: tuple[Any, ...]) -> None:
    expected: Any = parts[0]
    for part in parts[1:]:
        expected = expected + part
    got = concat(*parts)
    assert got.dtype == object
    assert got.tolist() == list(np.asarray(expected, dtype=object).tolist())


def test_concat_needs_an_array() -> None:
    with pytest.raises(ValueError):
        concat("a", "b")


@pytest.mark.parametrize("who", [[], [3], [0, 0, 0], [0, 1, 1, 2, 2, 2, 5], [4, 4, 1, 1, 1, 4]])
def test_group_rank_counts_within_runs(who: list[int]) -> None:
    expected = []
    for i, value in enumerate(who):
        expected.append(expected[-1] + 1 if i and who[i - 1] == value else 0)
    assert group_rank(np.array(who, dtype=np.int64)).tolist() == expected


def test_joined_per_applicant_keeps_the_first_labels_of_each_group() -> None:
    who = np.array([0, 0, 0, 0, 2, 4, 4], dtype=np.int64)
    labels = objects(["a", "", "ü", "d", "e", "f", "g"])
    got = _joined_per_applicant(who, labels, 6, 3)
    assert got.tolist() == ["a; ; ü", "", "e", "", "f; g", ""]
    assert _joined_per_applicant(who[:0], labels[:0], 2, 3).tolist() == ["", ""]


def test_month_texts_match_strftime_and_mark_unknown_days() -> None:
    days = [
        date(2024, 6, 30).toordinal(),
        -1,
        date(1969, 12, 31).toordinal(),
        date(1, 1, 1).toordinal(),
        0,
        date(2024, 6, 1).toordinal(),
        date(9999, 12, 31).toordinal(),
    ]
    expected = [date.fromordinal(d).strftime("%b %Y") if d > 0 else "?" for d in days]
    assert _month_texts(np.array(days, dtype=np.int64)).tolist() == expected
    assert _month_texts(np.zeros(0, dtype=np.int64)).tolist() == []


def _held_reference(criterion: str, words: str, status: str, code: int | None) -> str:
    """The sentence as written before it was built from a table of (status, reported)."""
    if code is None:
        reported = ""
    elif code == F.HELD:
        reported = "reported"
    elif code == F.NOT_HELD:
        reported = "not reported"
    else:
        reported = "not clearly reported"
    head = f"{criterion}: "
    if status == Status.not_applicable.value:
        return head + "not required for this position"
    if status == Status.condition.value:
        return head + words + " required at appointment (" + reported + " by the applicant)"
    if status == Status.met.value:
        return head + words + " " + reported
    if status == Status.review.value:
        return head + words + " " + reported + "; verify"
    return head + words + " required; " + reported


def test_held_reasons_match_the_sentence_of_every_status_and_code() -> None:
    statuses = [s.value for s in Status]
    codes = [F.HELD, F.NOT_HELD, F.UNKNOWN]
    status = objects([s for s in statuses for _ in codes])
    code = np.array([c for _ in statuses for c in codes], dtype=np.int64)
    got = held_reasons("lic", "valid Café license", status, code)
    assert got.tolist() == [
        _held_reference("lic", "valid Café license", s, int(c))
        for s, c in zip(status, code, strict=True)
    ]
    without = held_reasons("cert", "PMP", status, None)
    assert without.tolist() == [_held_reference("cert", "PMP", s, None) for s in status]
    assert held_reasons("cert", "PMP", objects([]), np.zeros(0, dtype=np.int64)).tolist() == []


def test_rank_codes_number_statuses_by_their_place_and_others_last() -> None:
    ranked = ["not_met", "review", "met"]
    status = objects(["met", "condition", "not_met", None, "review", "met"])
    assert _rank_codes(status, ranked).tolist() == [2, 3, 0, 3, 1, 2]
    assert _rank_codes(objects([]), ranked).tolist() == []
