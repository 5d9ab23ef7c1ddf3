"""The spec compiler: the seed agrees with the hand-written rule file, each phrasing family
is read, and no sentence of an MQ section is ever dropped."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from screening.documents import read_document_bytes
from screening.spec import JobSpec, Level, SpecError, load_spec, spec_from_data
from screening.speccompiler import (
    CompiledSpec,
    NotASpecError,
    compile_document,
    compile_document_data,
    default_vocabulary,
    dropped_sentences,
    find_mq_sections,
    spec_clauses,
    split_sentences,
)
from tests.conftest import shared_input

REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "tests" / "fixtures" / "alameda-7616-account-manager.txt"
HAND_WRITTEN = REPO / "rules" / "alameda-7616-account-manager.yaml"
VOCABULARY = default_vocabulary()


def compile_text(text: str, name: str = "spec.txt") -> CompiledSpec:
    """Compile text as a .txt document: one paragraph a line; a lower-case line continues."""
    document = read_document_bytes(text.encode("utf-8"), name)
    return compile_document_data(document, VOCABULARY)


def compile_or_refuse(text: str) -> CompiledSpec | None:
    """Compile text; None when the compiler refuses it, which it may only do for a text
    with no requirement it could read."""
    try:
        return compile_text(text)
    except NotASpecError as exc:
        assert str(exc).startswith("spec.txt: ")
        return None


def all_clauses(spec: JobSpec) -> list[str]:
    return spec_clauses(spec)


def assert_nothing_dropped(compiled: CompiledSpec) -> None:
    assert dropped_sentences(compiled) == []
    clauses = spec_clauses(compiled.spec)
    for sentence in compiled.sentences:
        in_clause = any(sentence in clause for clause in clauses)
        placed = {*compiled.spec.unparsed, *compiled.spec.preferred, *compiled.spec.notes}
        assert in_clause or sentence in placed, f"dropped: {sentence!r}"


# --- the seed -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seed() -> CompiledSpec:
    return compile_document(SEED, VOCABULARY)


def test_seed_agrees_with_the_hand_written_rule_file(seed: CompiledSpec) -> None:
    compiled, hand = seed.spec, load_spec(HAND_WRITTEN)
    assert [p.id for p in compiled.patterns] == [p.id for p in hand.patterns] == ["typical"]
    assert compiled.criterion_ids() == hand.criterion_ids()
    got, want = compiled.patterns[0], hand.patterns[0]
    assert got.education is not None and want.education is not None
    assert got.education.min_level == want.education.min_level == Level.bachelor
    assert got.education.fields == want.education.fields
    assert got.education.allow_related is want.education.allow_related is True
    assert got.education.accredited is want.education.accredited is True
    assert len(got.experience) == len(want.experience) == 1
    exp, want_exp = got.experience[0], want.experience[0]
    assert exp.years == want_exp.years == 3
    assert exp.areas == want_exp.areas
    assert list(exp.areas) == [
        "customer relations",
        "account management",
        "business process re-engineering",
        "business development",
        "program management",
        "project management",
    ]
    assert all(area in VOCABULARY.areas for area in exp.areas)
    assert exp.industries == want_exp.industries == ["utility"]
    assert exp.allow_related_industries is want_exp.allow_related_industries is True
    assert exp.professional is want_exp.professional is True
    assert exp.within_years is want_exp.within_years is None
    sub, want_sub = compiled.substitution, hand.substitution
    assert sub is not None and want_sub is not None
    for key in ("experience_for_education", "education_years", "education_for_experience",
                "discretionary"):  # fmt: skip
        assert getattr(sub, key) == getattr(want_sub, key), key
    assert "year-for-year" in sub.interpretation
    assert len(compiled.licenses) == len(hand.licenses) == 1
    lic, want_lic = compiled.licenses[0], hand.licenses[0]
    for key in ("id", "kind", "state", "license_class", "applies", "enforce_at"):
        assert getattr(lic, key) == getattr(want_lic, key), key
    assert compiled.certificates == hand.certificates == []
    assert compiled.unparsed == hand.unparsed == []


def test_seed_keeps_struck_text_out_of_the_rules(seed: CompiledSpec) -> None:
    desirable = (
        "experience with utilities, economic development, and/or business outreach and "
        "recruitment and retention programs is desirable."
    )
    assert desirable in seed.spec.removed
    assert all("desirable" not in clause for clause in all_clauses(seed.spec))


def test_seed_provenance_and_identity(seed: CompiledSpec) -> None:
    provenance = seed.spec.provenance
    assert provenance is not None
    assert provenance.document == SEED.name
    assert provenance.sha256 == hashlib.sha256(SEED.read_bytes()).hexdigest()
    assert provenance.compiler_version
    assert seed.spec.class_code == "7616"
    assert seed.spec.agency == "City of Alameda"
    assert seed.spec.revision == "2019-01-09"


def test_seed_headers_footers_and_paths_are_not_requirements(seed: CompiledSpec) -> None:
    text = " ".join(seed.sentences)
    assert "G:\\" not in text and "(OVER)" not in text and "12/27/2018" not in text
    assert_nothing_dropped(seed)


def test_compiled_seed_round_trips_through_yaml_validation(seed: CompiledSpec) -> None:
    data = seed.spec.model_dump(mode="json", by_alias=True)
    assert spec_from_data(data).sha256() == seed.spec.sha256()


# --- finding the MQ sections --------------------------------------------------------------


@pytest.mark.parametrize(
    "heading",
    [
        "Employment Standards",
        "MINIMUM QUALIFICATIONS",
        "Minimum Acceptable Training and Experience",
        "Education/Experience:",
        "Qualifications",
        "Experience and Training",
        "Other Requirements",
        "Legal Requirements",
        "Special Requirement",
        "License",
    ],
)
def test_mq_headings_are_found(heading: str) -> None:
    sections = find_mq_sections(
        ["DEFINITION", "Performs work.", heading, "One year of experience in filing.", "Knowledge"]
    )
    assert [s.paragraphs for s in sections] == [["One year of experience in filing."]]


def test_an_mq_paragraph_with_no_heading_is_found() -> None:
    compiled = compile_text(
        """
        CITY HALL
        Plans routine maintenance work.
        Two years of experience in building maintenance.
        """
    )
    assert compiled.spec.patterns[0].experience[0].years == 2
    assert compiled.spec.patterns[0].experience[0].areas == {"building maintenance": []}


def test_noise_lines_inside_a_section_are_skipped() -> None:
    compiled = compile_text(
        """
        MINIMUM QUALIFICATIONS
        Two years of experience in payroll.
        Page 2 of 3
        H:\\Specs\\Payroll Clerk.docx
        03/04/2021
        Revised 4/2021
        Class Established 5/90
        Must be a resident of the county.
        """
    )
    assert compiled.sentences == ["Two years of experience in payroll."]
    assert compiled.spec.unparsed == []


def test_sentence_split_keeps_abbreviations() -> None:
    assert split_sentences("Holds a B.A. in history. Two years of work e.g. filing.") == [
        "Holds a B.A. in history.",
        "Two years of work e.g. filing.",
    ]


# --- phrasing families --------------------------------------------------------------------


def only_pattern(compiled: CompiledSpec) -> object:
    assert len(compiled.spec.patterns) == 1
    return compiled.spec.patterns[0]


@pytest.mark.parametrize(
    ("sentence", "level", "years"),
    [
        ("Graduation from high school or possession of a GED.", Level.high_school, None),
        (
            "Education equivalent to completion of the twelfth school grade.",
            Level.high_school,
            None,
        ),
        ("Completion of the 12th grade.", Level.high_school, None),
        ("An associate's degree from an accredited college.", Level.associate, None),
        ("A bachelor's degree from an accredited college or university.", Level.bachelor, None),
        ("Possession of a master's degree in social work.", Level.master, None),
        ("A doctorate in clinical psychology.", Level.doctorate, None),
        ("Completion of two years of college.", Level.none, 2.0),
        ("Completion of 60 semester units at an accredited college.", Level.none, 2.0),
        ("Completion of 90 quarter units of college course work.", Level.none, 2.0),
        ("Completion of the eighth school grade.", Level.none, None),
    ],
)
def test_degree_levels(sentence: str, level: Level, years: float | None) -> None:
    compiled = compile_text(f"MINIMUM QUALIFICATIONS\n{sentence}")
    education = compiled.spec.patterns[0].education
    assert education is not None
    assert education.min_level == level
    assert education.min_years == years
    assert education.clause == sentence


def test_field_lists_and_related_fields() -> None:
    compiled = compile_text(
        "QUALIFICATIONS\nA bachelor's degree with major course work in accounting, finance, "
        "economics or a closely related field."
    )
    education = compiled.spec.patterns[0].education
    assert education is not None
    assert education.fields == ["accounting", "finance", "economics"]
    assert education.allow_related is True
    assert education.accredited is False


def test_allied_field_and_accreditation() -> None:
    compiled = compile_text(
        "QUALIFICATIONS\nGraduation from an accredited college with a degree in biology or an "
        "allied field."
    )
    education = compiled.spec.patterns[0].education
    assert education is not None
    assert education.fields == ["biology"]
    assert education.allow_related is True and education.accredited is True


def test_fields_without_related_clause_are_strict() -> None:
    compiled = compile_text("QUALIFICATIONS\nA bachelor's degree in civil engineering.")
    education = compiled.spec.patterns[0].education
    assert education is not None
    assert education.fields == ["civil engineering"] and education.allow_related is False


@pytest.mark.parametrize(
    ("phrase", "years"),
    [
        ("Three years", 3),
        ("3 years", 3),
        ("Three (3) years", 3),
        ("Six months", 0.5),
        ("Eighteen months", 1.5),
        ("One and one-half years", 1.5),
        ("Two years of full-time paid", 2),
    ],
)
def test_years_in_words_and_digits(phrase: str, years: float) -> None:
    text = f"{phrase} experience" if phrase.endswith("paid") else f"{phrase} of experience"
    compiled = compile_text(f"EXPERIENCE AND TRAINING\n{text} in water treatment.")
    experience = compiled.spec.patterns[0].experience
    assert [e.years for e in experience] == [years]
    assert experience[0].areas == {"water treatment": []}


def test_areas_industries_and_professional() -> None:
    compiled = compile_text(
        "MINIMUM QUALIFICATIONS\nFour years of professional experience in contract "
        "administration or procurement in the utility industry."
    )
    experience = compiled.spec.patterns[0].experience[0]
    assert experience.areas == {"contract administration": [], "procurement": []}
    assert experience.industries == ["utility"]
    assert experience.allow_related_industries is False
    assert experience.professional is True


def test_area_before_the_word_experience() -> None:
    compiled = compile_text("MINIMUM QUALIFICATIONS\nTwo years of accounting experience.")
    assert compiled.spec.patterns[0].experience[0].areas == {"accounting": []}


def test_either_or_alternatives_become_patterns() -> None:
    compiled = compile_text(
        """
        MINIMUM QUALIFICATIONS
        EITHER:
        A bachelor's degree in public administration and one year of experience in budgeting.
        OR
        Five years of experience in budgeting.
        """
    )
    patterns = compiled.spec.patterns
    assert len(patterns) == 2
    assert patterns[0].education is not None and patterns[0].education.min_level == Level.bachelor
    assert [e.years for e in patterns[0].experience] == [1]
    assert patterns[1].education is None
    assert [e.years for e in patterns[1].experience] == [5]
    assert_nothing_dropped(compiled)


def test_lettered_patterns() -> None:
    compiled = compile_text(
        """
        Minimum Qualifications
        A) Graduation from high school and four years of experience in inventory control; or
        B) An associate's degree and two years of experience in inventory control.
        """
    )
    patterns = compiled.spec.patterns
    assert [p.id for p in patterns] == ["a", "b"]
    assert [p.education.min_level for p in patterns if p.education] == [
        Level.high_school,
        Level.associate,
    ]
    assert [[e.years for e in p.experience] for p in patterns] == [[4], [2]]


def test_roman_numbered_patterns_with_labels() -> None:
    compiled = compile_text(
        """
        MINIMUM QUALIFICATIONS
        Pattern I
        Education: A master's degree in library science.
        Experience: One year of experience in reference services.
        Pattern II
        Education: A bachelor's degree.
        Experience: Three years of experience in reference services.
        """
    )
    patterns = compiled.spec.patterns
    assert [p.id for p in patterns] == ["pattern_1", "pattern_2"]
    assert [p.education.min_level for p in patterns if p.education] == [
        Level.master,
        Level.bachelor,
    ]
    assert [p.experience[0].years for p in patterns] == [1, 3]
    assert patterns[0].education is not None
    assert patterns[0].education.fields == ["library science"]


def test_or_on_its_own_line_forks_the_experience() -> None:
    compiled = compile_text(
        """
        MINIMUM ACCEPTABLE TRAINING AND EXPERIENCE
        EDUCATION:
        Education equivalent to completion of the twelfth school grade.
        AND
        EXPERIENCE:
        Two years of experience in traffic signal repair.
        OR
        One year of experience as a Traffic Signal Helper.
        """
    )
    patterns = compiled.spec.patterns
    assert len(patterns) == 2
    assert all(p.education and p.education.min_level == Level.high_school for p in patterns)
    assert [p.experience[0].years for p in patterns] == [2, 1]
    assert patterns[1].experience[0].areas == {"traffic signal helper": []}


def test_any_combination_equivalent_is_year_for_year_substitution() -> None:
    compiled = compile_text(
        """
        Employment Standards
        Any combination equivalent to the following is qualifying:
        Education: An associate's degree in office administration.
        Experience: One year of experience in office work.
        """
    )
    substitution = compiled.spec.substitution
    assert substitution is not None
    assert substitution.experience_for_education is True
    assert substitution.discretionary is False
    assert substitution.education_years == 2
    assert "year-for-year" in substitution.interpretation


def test_discretionary_equivalency() -> None:
    compiled = compile_text(
        """
        MINIMUM ACCEPTABLE TRAINING AND EXPERIENCE
        Two years of experience in grounds maintenance.
        OR
        Any equivalent combination of education and experience determined to be acceptable
        by the Office of Human Resources.
        """
    )
    assert len(compiled.spec.patterns) == 1
    substitution = compiled.spec.substitution
    assert substitution is not None
    assert substitution.discretionary is True
    assert substitution.experience_for_education is False


def test_education_substituted_for_experience_with_a_limit() -> None:
    compiled = compile_text(
        """
        QUALIFICATIONS
        Three years of experience in social casework.
        A master's degree in social work may be substituted for one year of the required experience.
        """
    )
    substitution = compiled.spec.substitution
    assert substitution is not None
    assert substitution.education_for_experience is True
    assert substitution.max_education_for_experience_years == 1


def test_experience_substituted_for_education_and_unit_rate() -> None:
    compiled = compile_text(
        """
        QUALIFICATIONS
        Completion of 60 semester units of college course work.
        Additional qualifying experience may be substituted for the required education on a
        year-for-year basis.
        Thirty semester hours equal one year.
        """
    )
    substitution = compiled.spec.substitution
    assert substitution is not None
    assert substitution.experience_for_education is True
    assert substitution.semester_units_per_year == 30
    education = compiled.spec.patterns[0].education
    assert education is not None and education.min_years == 2


def test_quarter_unit_rate() -> None:
    compiled = compile_text(
        "QUALIFICATIONS\nOne year of clerical experience.\nForty-five quarter units equal one year."
    )
    assert compiled.spec.substitution is not None
    assert compiled.spec.substitution.quarter_units_per_year == 45


def test_license_required_at_screening_with_class() -> None:
    compiled = compile_text(
        """
        LICENSE
        Possession of a valid Class B Oregon driver's license at the time of application.
        """
    )
    (lic,) = compiled.spec.licenses
    assert (lic.id, lic.kind, lic.state, lic.license_class) == (
        "or_drivers_license",
        "driver's license",
        "OR",
        "B",
    )
    assert (lic.applies, lic.enforce_at) == ("always", "screening")


def test_license_conditional_and_at_appointment() -> None:
    compiled = compile_text(
        """
        Minimum Qualifications
        Two years of experience in office administration.
        Special Requirement
        A valid Texas driver's license may be required for positions that require driving and
        must be held at time of appointment.
        """
    )
    (lic,) = compiled.spec.licenses
    assert lic.state == "TX"
    assert (lic.applies, lic.enforce_at) == ("position_requires_driving", "appointment")


def test_professional_license_kind() -> None:
    compiled = compile_text(
        """
        Minimum Qualifications
        Two years of experience in office administration.
        LICENSES, REGISTRATIONS AND/OR CERTIFICATES
        Possession of a valid license to practice nursing in the State of Ohio prior to appointment.
        """
    )
    (lic,) = compiled.spec.licenses
    assert lic.kind == "license to practice nursing"
    assert lic.state == "OH"
    assert lic.enforce_at == "appointment"


def test_certificates_and_registrations_which_are_licenses() -> None:
    compiled = compile_text(
        """
        Legal Requirements
        Possession of a Water Treatment Operator Certificate as issued by the State of Nevada
        at the time of application.
        Registration as a Professional Engineer within six months of appointment.
        """
    )
    names = [(c.name, c.enforce_at) for c in compiled.spec.certificates]
    assert names == [("water treatment operator certificate", "screening")]
    assert compiled.spec.certificates[0].aliases == ["water treatment operator certificate (NV)"]
    # a professional registration is a license to practise
    (registration,) = compiled.spec.licenses
    assert (registration.kind, registration.enforce_at) == (
        "registration as professional engineer",
        "appointment",
    )


def test_certificate_list_items_become_aliases() -> None:
    compiled = compile_text(
        """
        CERTIFICATES
        Possession of one of the following certifications:
        1. Certified Public Accountant
        2. Certified Internal Auditor
        """
    )
    (cert,) = compiled.spec.certificates
    assert cert.aliases == ["certified public accountant", "certified internal auditor"]
    assert_nothing_dropped(compiled)


def test_general_and_specific_experience_of_which() -> None:
    compiled = compile_text(
        "QUALIFICATIONS\nSix years of experience in civil engineering, of which one year "
        "must have been in a supervisory capacity."
    )
    general, specific = compiled.spec.patterns[0].experience
    assert general.id.endswith("experience.general") and general.years == 6
    assert specific.id.endswith("experience.specific") and specific.years == 1
    assert "civil engineering" in general.areas
    assert "supervisory capacity" in specific.areas


def test_general_and_specific_experience_including() -> None:
    compiled = compile_text(
        "QUALIFICATIONS\nFive years of experience in accounting, including two years of "
        "supervisory experience."
    )
    general, specific = compiled.spec.patterns[0].experience
    assert (general.years, specific.years) == (5, 2)
    assert "supervisory" in specific.areas


def test_years_of_which_phrasing() -> None:
    compiled = compile_text(
        "QUALIFICATIONS\nFour years of experience in building maintenance, two years of which "
        "shall have included the supervision of custodians."
    )
    general, specific = compiled.spec.patterns[0].experience
    assert (general.years, specific.years) == (4, 2)
    assert "supervision of custodians" in specific.areas


def test_labelled_general_and_specific_experience_add_up() -> None:
    compiled = compile_text(
        """
        MINIMUM ACCEPTABLE TRAINING AND EXPERIENCE
        GENERAL EXPERIENCE:
        Two years of experience in clerical work.
        AND
        SPECIFIC EXPERIENCE:
        One year of experience in payroll processing.
        """
    )
    general, specific = compiled.spec.patterns[0].experience
    assert general.years == 3  # the general requirement counts the whole span
    assert set(general.areas) == {"clerical work", "payroll processing"}
    assert specific.years == 1 and set(specific.areas) == {"payroll processing"}


def test_recency_window() -> None:
    compiled = compile_text(
        "QUALIFICATIONS\nTwo years of experience in emergency dispatch within the last five years."
    )
    experience = compiled.spec.patterns[0].experience[0]
    assert experience.within_years == 5
    assert experience.areas == {"emergency dispatch": []}


def test_recency_note_applies_to_the_specific_experience() -> None:
    compiled = compile_text(
        """
        MINIMUM ACCEPTABLE TRAINING AND EXPERIENCE
        GENERAL EXPERIENCE:
        Two years of experience in inspection work.
        AND
        SPECIFIC EXPERIENCE:
        One year of experience in elevator inspection.
        The specific experience must have been gained within three years prior to the examination.
        """
    )
    general, specific = compiled.spec.patterns[0].experience
    assert general.within_years is None and specific.within_years == 3
    assert_nothing_dropped(compiled)


@pytest.mark.parametrize(
    "sentence",
    [
        "Must be at least 18 years of age at the time of appointment.",
        "Must be a citizen of the United States.",
        "Ability to physically perform the duties of the position.",
        "Must be able to lift 50 pounds.",
    ],
)
def test_unverifiable_requirements_stay_unparsed(sentence: str) -> None:
    compiled = compile_text(
        f"MINIMUM QUALIFICATIONS\nOne year of experience in filing.\n{sentence}"
    )
    assert compiled.spec.unparsed == [sentence]


# --- never drop a sentence ----------------------------------------------------------------

_SENTENCES = [
    "Graduation from high school.",
    "A bachelor's degree in chemistry or a related field.",
    "Completion of 30 semester units.",
    "Three years of experience in laboratory analysis.",
    "Two years of clerical experience, including one year of payroll work.",
    "Possession of a valid Nevada driver's license at time of appointment.",
    "Possession of a Notary Public Certificate.",
    "Any combination equivalent to the above.",
    "Must be willing to work nights and weekends.",
    "Candidates should enjoy teamwork.",
    "Knowledge of spreadsheets is helpful.",
    "Must be able to lift 40 pounds.",
]
_LABELS = ["OR", "AND", "EDUCATION:", "EXPERIENCE:", "Option 2:", "B)"]
_YEARS_OR_DEGREE = re.compile(r"\b(?:years?|months?|degree|diploma|graduation)\b", re.I)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(st.sampled_from(_SENTENCES), st.sampled_from(_LABELS)), min_size=1, max_size=9
    ),
    st.sampled_from(["MINIMUM QUALIFICATIONS", "Employment Standards", "Other Requirements", ""]),
)
def test_every_mq_sentence_is_in_a_clause_or_unparsed(lines: list[str], heading: str) -> None:
    compiled = compile_or_refuse("\n".join(["DEFINITION", "Does the work.", heading, *lines]))
    if compiled is None:
        assert not any(_YEARS_OR_DEGREE.search(line) for line in lines)
        return
    assert_nothing_dropped(compiled)
    expected = [s for s in lines if s in _SENTENCES]
    if heading:
        assert compiled.sentences == expected


def test_unparsed_and_notes_keep_their_order_and_requirements_are_never_notes() -> None:
    compiled = compile_text(
        """
        MINIMUM QUALIFICATIONS
        Candidates should enjoy teamwork.
        One year of experience in landscaping.
        Applicants must bring their own lunch.
        Knowledge of spreadsheets is helpful.
        Must be able to work in the rain.
        """
    )
    assert compiled.spec.notes == [
        "Candidates should enjoy teamwork.",
        "Knowledge of spreadsheets is helpful.",
    ]
    assert compiled.spec.unparsed == [
        "Applicants must bring their own lunch.",
        "Must be able to work in the rain.",
    ]


def test_specialties_share_the_common_requirements() -> None:
    compiled = compile_text(
        """
        MINIMUM ACCEPTABLE TRAINING AND EXPERIENCE
        ALL SPECIALTIES
        EDUCATION:
        Education equivalent to completion of the twelfth school grade.
        AND
        EXPERIENCE:
        Bridge Specialty
        Two years of experience in bridge maintenance.
        Tunnel Specialty
        One year of experience in tunnel ventilation.
        """
    )
    patterns = compiled.spec.patterns
    assert [p.id for p in patterns] == ["bridge", "tunnel"]
    assert all(p.education and p.education.min_level == Level.high_school for p in patterns)
    assert [list(p.experience[0].areas) for p in patterns] == [
        ["bridge maintenance"],
        ["tunnel ventilation"],
    ]


def test_a_part_with_no_area_of_its_own_is_in_the_general_areas() -> None:
    compiled = compile_text(
        "QUALIFICATIONS\nFour years of social work experience, two years of which has been at "
        "the full performance level."
    )
    general, specific = compiled.spec.patterns[0].experience
    assert general.areas == specific.areas == {"social work": []}
    assert (general.years, specific.years) == (4, 2)


def test_clearances_and_background_checks_are_conditions_at_appointment() -> None:
    compiled = compile_text(
        """
        Minimum Qualifications
        Two years of experience in office administration.
        LICENSES, REGISTRATIONS AND/OR CERTIFICATES
        Must be able to pass and maintain SIDA (Security Identification Display Area) clearance.
        Must pass a criminal background check prior to appointment.
        """
    )
    conditions = [(c.id, c.enforce_at, c.applies) for c in compiled.spec.certificates]
    assert conditions == [
        ("sida_and_aoa_security_clearance", "appointment", "always"),
        ("criminal_background_check", "appointment", "always"),
    ]
    assert compiled.spec.unparsed == []


def test_no_requirement_checked_at_screening_is_refused_not_an_empty_spec() -> None:
    # a spec that requires nothing at screening would qualify everyone: the analyst writes
    # that rule file by hand, knowingly
    for text in (
        "MINIMUM QUALIFICATIONS\nNo previous experience or education required.",
        "LICENSES\nPossession of a valid license to practice nursing in Ohio prior to appointment.",
    ):
        with pytest.raises(NotASpecError) as refused:
            compile_text(text)
        assert refused.value.reason == "no_requirement"
        assert "would qualify everyone" in str(refused.value)


def test_typical_class_lists_are_not_requirements() -> None:
    compiled = compile_text(
        """
        MINIMUM ACCEPTABLE TRAINING AND EXPERIENCE
        One year of experience in stock control.
        Classes which typically meet the experience requirements for this class include:
        Stock Clerk
        """
    )
    assert compiled.sentences == ["One year of experience in stock control."]
    assert compiled.spec.unparsed == []


# --- the reference corpus -------------------------------------------------------------------


def test_corpus_sample_compiles_without_crash_or_dropped_sentence() -> None:
    documents = sorted(shared_input("corpus/philadelphia").iterdir())[::10]
    assert len(documents) >= 90
    for path in documents:
        try:
            compiled = compile_document(path, VOCABULARY)
        except NotASpecError as exc:
            assert exc.reason in ("no_mq_section", "no_requirement"), path.name
            continue
        assert dropped_sentences(compiled) == [], path.name
        assert compiled.spec.provenance is not None
        data = compiled.spec.model_dump(mode="json", by_alias=True)
        if compiled.spec.empty_patterns():
            # a spec that requires nothing would qualify everyone: refused when loaded
            with pytest.raises(SpecError, match="requires nothing"):
                spec_from_data(data)
        else:
            assert spec_from_data(data).id


def test_degree_or_certification_gives_two_patterns() -> None:
    compiled = compile_text(
        """
        MINIMUM ACCEPTABLE TRAINING AND EXPERIENCE
        EDUCATION:
        A bachelor's degree with a major in accounting or certification as a
        certified public accountant.
        AND
        EXPERIENCE:
        Two years of experience in auditing.
        """
    )
    first, second = compiled.spec.patterns
    assert first.education is not None and first.education.fields == ["accounting"]
    assert first.certificates == []
    assert second.education is None
    assert [c.name for c in second.certificates] == ["certified public accountant"]
    assert [e.years for e in first.experience] == [e.years for e in second.experience] == [2]
    assert_nothing_dropped(compiled)


_WORDS = st.sampled_from(
    [
        "one",
        "two",
        "three",
        "(3)",
        "years",
        "months",
        "of",
        "experience",
        "in",
        "and",
        "or",
        "a",
        "an",
        "the",
        "bachelor's",
        "degree",
        "license",
        "certificate",
        "California",
        "class",
        "B",
        "within",
        "last",
        "five",
        "substituted",
        "for",
        "equivalent",
        "combination",
        "OR",
        "AND",
        "EXPERIENCE:",
        "EDUCATION:",
        "Option",
        "1:",
        "A)",
        "Specialty",
        "which",
        "including",
        "semester",
        "units",
        "60",
        "related",
        "field:",
        "·",
        "1.",
        ";",
        ",",
        ".",
        "registration",
        "appointment",
    ]
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(_WORDS, min_size=1, max_size=14).map(" ".join), max_size=8))
def test_any_text_compiles_without_crash_and_drops_nothing(lines: list[str]) -> None:
    compiled = compile_or_refuse("\n".join(["MINIMUM QUALIFICATIONS", *lines, "x"]))
    if compiled is not None:
        assert_nothing_dropped(compiled)


@settings(max_examples=150, deadline=None)
@given(st.text(min_size=1, max_size=300))
def test_arbitrary_characters_never_crash_the_compiler(text: str) -> None:
    compiled = compile_text(f"Minimum Qualifications\n{text}\nTwo years of experience.")
    assert_nothing_dropped(compiled)


def test_word_document_compiles_with_struck_requirement_removed(tmp_path: Path) -> None:
    import docx

    word = docx.Document()
    word.add_paragraph("MINIMUM QUALIFICATIONS")
    paragraph = word.add_paragraph("Three years of experience in fleet maintenance.")
    old = paragraph.add_run(" Two years of experience in bus repair.")
    old.font.strike = True
    word.add_paragraph("KNOWLEDGE")
    word.add_paragraph("Five years of experience in nothing that counts.")
    path = tmp_path / "fleet.docx"
    word.save(str(path))
    compiled = compile_document(path, VOCABULARY)
    (experience,) = compiled.spec.patterns[0].experience
    assert experience.years == 3 and experience.areas == {"fleet maintenance": []}
    assert compiled.spec.removed == ["Two years of experience in bus repair."]


def test_word_exported_html_compiles(tmp_path: Path) -> None:
    html = """<html><body><div class=WordSection1>
    <p class=MsoNormal><b>MINIMUM ACCEPTABLE TRAINING AND EXPERIENCE</b></p>
    <p class=MsoNormal>(The following statement represents the minimum training and experience
    standards which will be used to admit or reject applicants for tests.)</p>
    <p class=MsoNormal>EDUCATION:</p>
    <p class=MsoNormal>Completion of a bachelor&#8217;s degree program at an accredited college
    or university with major course work in chemistry.</p>
    <p class=MsoNormal>AND</p><p class=MsoNormal>EXPERIENCE:</p>
    <p class=MsoNormal>Two years of experience in water quality testing<span
    style='text-decoration:line-through'> and sampling</span>.</p>
    <p class=MsoNormal>PHYSICAL AND MEDICAL REQUIREMENTS</p>
    <p class=MsoNormal>Ability to physically perform the duties.</p>
    </div></body></html>"""
    path = tmp_path / "chemist.htm"
    path.write_text(html, encoding="utf-8")
    compiled = compile_document(path, VOCABULARY)
    (pattern,) = compiled.spec.patterns
    assert pattern.education is not None and pattern.education.fields == ["chemistry"]
    assert pattern.experience[0].areas == {"water quality testing": []}
    assert compiled.spec.removed == ["and sampling"]
    assert compiled.spec.unparsed == []


def test_pdf_compiles(tmp_path: Path) -> None:
    from tests.test_documents import make_pdf

    path = tmp_path / "spec.pdf"
    path.write_bytes(
        make_pdf(["QUALIFICATIONS", "One year of experience in grant administration."])
    )
    compiled = compile_document(path, VOCABULARY)
    assert compiled.spec.patterns[0].experience[0].areas == {"grant administration": []}


def test_fields_after_college_in_and_part_without_unit() -> None:
    compiled = compile_text(
        """
        MINIMUM QUALIFICATIONS
        A bachelor's degree from an accredited college or university in chemistry or biochemistry.
        Three years of laboratory experience, one of which has been at the full performance level.
        """
    )
    pattern = compiled.spec.patterns[0]
    assert pattern.education is not None
    assert pattern.education.fields == ["chemistry", "biochemistry"]
    general, specific = pattern.experience
    assert (general.years, specific.years) == (3, 1)
    assert specific.areas == general.areas == {"laboratory": []}


def test_note_scope_stays_with_its_substitution_note() -> None:
    compiled = compile_text(
        """
        MINIMUM QUALIFICATIONS
        Two years of experience in payroll.
        NOTE: This note does not apply to in-position promotions.
        A bachelor's degree in accounting may be substituted for one year of experience.
        """
    )
    substitution = compiled.spec.substitution
    assert substitution is not None and substitution.education_for_experience is True
    assert substitution.clause.startswith("This note does not apply to in-position promotions.")
    assert compiled.spec.unparsed == []


def test_lettered_alternatives_inside_one_paragraph() -> None:
    compiled = compile_text(
        "Minimum Qualifications\nEither A) Graduation from high school and four years of "
        "experience in purchasing; or B) An associate's degree and two years of experience in "
        "purchasing."
    )
    patterns = compiled.spec.patterns
    assert [p.id for p in patterns] == ["a", "b"]
    assert [p.education.min_level for p in patterns if p.education] == [
        Level.high_school,
        Level.associate,
    ]
    assert [[e.years for e in p.experience] for p in patterns] == [[4], [2]]
    assert_nothing_dropped(compiled)
