"""The structure of an MQ section, read before its sentences: alternatives, joins, nested
years, preferred wording, equivalency clauses, sub-items and class levels.

Each test is one drafting convention agencies use, written as a short example of our own.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from screening.cli import main
from screening.documents import read_document_bytes
from screening.spec import JobSpec, Level
from screening.speccompiler import (
    CompiledSpec,
    NotASpecError,
    clause_pieces,
    compile_document_data,
    default_vocabulary,
)

VOCABULARY = default_vocabulary()


def compile_text(text: str, name: str = "spec.txt") -> CompiledSpec:
    document = read_document_bytes(text.encode("utf-8"), name)
    return compile_document_data(document, VOCABULARY)


def shape(spec: JobSpec) -> list[tuple[str | None, list[float]]]:
    """Each pattern as (education level, experience years)."""
    return [
        (p.education.min_level.value if p.education else None, [e.years for e in p.experience])
        for p in spec.patterns
    ]


def test_a_sentence_is_cut_at_its_joins() -> None:
    pieces = clause_pieces(
        "A bachelor's degree in biology and two years of laboratory experience; or an "
        "equivalent combination of education and experience."
    )
    assert [(p.kind, p.label or p.text) for p in pieces] == [
        ("sentence", "A bachelor's degree in biology"),
        ("label", "and"),
        ("sentence", "two years of laboratory experience"),
        ("label", "or"),
        ("sentence", "an equivalent combination of education and experience."),
    ]


def test_numbered_items_joined_by_or_are_patterns_and_equivalency_is_not() -> None:
    spec = compile_text(
        "MINIMUM QUALIFICATIONS\n"
        "1. A bachelor's degree in accounting and one year of bookkeeping experience; or\n"
        "2. Four years of bookkeeping experience; or\n"
        "3. Any equivalent combination of education and experience.\n"
    ).spec
    assert shape(spec) == [("bachelor", [1]), (None, [4])]
    assert spec.substitution is not None and spec.substitution.experience_for_education


def test_items_joined_by_and_are_one_pattern() -> None:
    spec = compile_text(
        "MINIMUM QUALIFICATIONS\n"
        "1. Graduation from high school; and\n"
        "2. Two years of experience repairing pumps; and\n"
        "3. Six months of experience supervising a crew.\n"
    ).spec
    assert shape(spec) == [("high_school", [2, 0.5])]


def test_a_mixed_list_is_the_first_item_plus_one_of_the_rest() -> None:
    spec = compile_text(
        "MINIMUM QUALIFICATIONS\n"
        "1. Graduation from high school; and\n"
        "2. One year of experience as a security guard; or\n"
        "3. Two years of experience as a parking attendant; or\n"
        "4. Completion of 12 semester units from an accredited college.\n"
    ).spec
    assert shape(spec) == [("high_school", [1]), ("high_school", [2]), ("high_school", [])]
    assert spec.patterns[2].education is not None
    assert spec.patterns[2].education.min_years == 0.4


@pytest.mark.parametrize(
    "lines",
    [
        ["Either: Three years of experience in grounds maintenance.",
         "Or: One year of experience as a gardener and an associate's degree."],
        ["Option 1", "Three years of experience in grounds maintenance.",
         "Option 2", "An associate's degree and one year of experience as a gardener."],
        ["Pattern I: Three years of experience in grounds maintenance.",
         "Pattern II: An associate's degree and one year of experience as a gardener."],
        ["A) Three years of experience in grounds maintenance; or",
         "B) An associate's degree and one year of experience as a gardener."],
    ],
)  # fmt: skip
def test_labelled_alternatives_are_patterns(lines: list[str]) -> None:
    spec = compile_text("\n".join(["MINIMUM QUALIFICATIONS", *lines])).spec
    assert sorted(shape(spec), key=str) == sorted([(None, [3]), ("associate", [1])], key=str)


def test_nested_years_are_a_part_not_an_addition() -> None:
    spec = compile_text(
        "MINIMUM QUALIFICATIONS\n"
        "Four years of experience in payroll, including two years of supervisory experience.\n"
    ).spec
    (pattern,) = spec.patterns
    whole, part = pattern.experience
    assert (whole.years, part.years) == (4, 2)
    assert whole.part_of is None and part.part_of == whole.id


def test_preferred_wording_is_never_a_requirement() -> None:
    spec = compile_text(
        "MINIMUM QUALIFICATIONS\n"
        "A bachelor's degree in public administration.\n"
        "A master's degree in public policy is preferred.\n"
        "Experience with election software is a plus.\n"
        "PREFERRED QUALIFICATIONS\n"
        "Two years of supervisory experience.\n"
    ).spec
    (pattern,) = spec.patterns
    assert pattern.education is not None and pattern.education.min_level == Level.bachelor
    assert pattern.education.fields == ["public administration"]
    assert pattern.experience == []
    assert spec.preferred == [
        "A master's degree in public policy is preferred.",
        "Experience with election software is a plus.",
        "Two years of supervisory experience.",
    ]


def test_sub_items_listing_areas_are_not_patterns() -> None:
    spec = compile_text(
        "MINIMUM QUALIFICATIONS\n"
        "1. A bachelor's degree in computer science; or\n"
        "2. Two years of experience as a programmer which includes experience in:\n"
        "a. designing relational databases for large public agencies; or\n"
        "b. writing software that exchanges records with other agencies; or\n"
        "3. Five years of experience as a computer operator.\n"
    ).spec
    assert shape(spec) == [("bachelor", []), (None, [2]), (None, [5])]
    areas = " ".join(spec.patterns[1].experience[0].areas)
    assert "relational databases" in areas and "software" in areas


def test_class_levels_each_give_their_own_pattern() -> None:
    spec = compile_text(
        "MINIMUM QUALIFICATIONS\n"
        "Two years of experience in office work.\n"
        "High school diploma or GED required.\n"
        "Records Specialist\n"
        "One year of experience in records management.\n"
        "High school diploma or GED required.\n"
    ).spec
    assert shape(spec) == [("high_school", [2]), ("high_school", [1])]


def test_high_school_equivalency_certificate_is_an_education_level() -> None:
    spec = compile_text(
        "MINIMUM QUALIFICATIONS\n"
        "A high school diploma or a high school equivalency certificate.\n"
        "One year of experience as a cashier.\n"
    ).spec
    assert shape(spec) == [("high_school", [1])]
    assert spec.certificates == [] and spec.patterns[0].certificates == []


def test_process_notes_state_no_requirement_but_hide_nothing() -> None:
    compiled = compile_text(
        "MINIMUM QUALIFICATIONS\n"
        "Two years of experience as a cook.\n"
        "PROCESS NOTES\n"
        "Candidates will be asked for proof of their degree.\n"
        "Interviews are held in the spring.\n"
    )
    assert shape(compiled.spec) == [(None, [2])]
    assert compiled.spec.unparsed == ["Candidates will be asked for proof of their degree."]
    assert compiled.spec.notes == ["Interviews are held in the spring."]


@pytest.mark.parametrize(
    ("text", "reason", "words"),
    [
        ("BOARD AGENDA\nThe meeting opens at nine.\nMinutes of the last meeting.\n",
         "no_mq_section", "no minimum-qualification section found"),
        ("MINIMUM QUALIFICATIONS\nApplicants must enjoy teamwork.\n",
         "no_requirement", "states no education, experience, license or certificate"),
    ],
)  # fmt: skip
def test_a_document_that_is_no_spec_is_refused_with_one_message(
    text: str, reason: str, words: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(NotASpecError) as refused:
        compile_text(text)
    assert refused.value.reason == reason
    document = tmp_path / "notice.txt"
    document.write_text(text, encoding="utf-8")
    out = tmp_path / "rules.yaml"
    assert main(["compile", str(document), "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and not out.exists()
    assert words in captured.err and captured.err.count("\n") == 1
    assert "Traceback" not in captured.err


def test_credentials_joined_by_and_or_bulleted_on_one_line_are_each_required() -> None:
    compiled = compile_text(
        "MINIMUM QUALIFICATIONS\n"
        "Two years of experience driving a truck.\n"
        "Licenses and Certifications: - A valid California Class B driver's license and a "
        "valid medical certificate - A valid CPR card\n"
    )
    (pattern,) = compiled.spec.patterns
    (license_,) = pattern.licenses
    assert (license_.state, license_.license_class) == ("CA", "B")
    assert [c.name for c in pattern.certificates] == ["medical certificate", "cpr card"]
    # the bullets and the "and" between the credentials are structure
    assert [p.text for p in compiled.placements if p.destination == "structure"] == [
        "Licenses and Certifications:",
        "-",
        "and",
        "-",
    ]


def test_a_part_must_name_a_whole_requirement_of_its_pattern() -> None:
    from screening.spec import SpecError, spec_from_data

    spec = compile_text(
        "MINIMUM QUALIFICATIONS\n"
        "Four years of experience in payroll, including two years of supervisory experience.\n"
    ).spec
    data = spec.model_dump(mode="json", by_alias=True)
    data["patterns"][0]["experience"][1]["part_of"] = "pattern_9.experience"
    with pytest.raises(SpecError, match="part_of 'pattern_9.experience' names no experience"):
        spec_from_data(data, "edited.yaml")
