"""The shared job classifier: normalisation, occupation and industry recognition, near
matches, reasons — and the analyst-labelled job set it must agree with."""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

import pytest

from screening.jobclass import (
    NEAR_MATCH,
    NOT_QUALIFYING,
    OCCUPATION_DOUBT,
    QUALIFYING,
    UNCERTAIN,
    UNRECOGNISED_TITLE,
    JobClassifier,
)
from screening.spec import load_spec
from screening.taxonomy import DATA_DIR, industry_table, occupation_table, propose_codes
from screening.vocabulary import load_vocabulary
from screening.wording import match_form, stem

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "rules" / "alameda-7616-account-manager.yaml"
LABELLED = ROOT / "benchmarks" / "data" / "labelled-jobs.csv"


@pytest.fixture(scope="module")
def classifier() -> JobClassifier:
    spec = load_spec(SPEC)
    vocab = load_vocabulary(ROOT / "rules" / "vocabulary.yaml")
    return JobClassifier(spec.patterns[0].experience[0], vocab)


def classify(
    c: JobClassifier, title: str, industry: str = "", duties: str = "", employer: str = ""
) -> tuple[str, str]:
    _, classification, matched = c.classify(title, duties, industry, employer)
    return classification, matched


# ------------------------------------------------------------------ normalisation


def test_inflections_fold_to_one_stem() -> None:
    assert match_form("Managed Programs") == match_form("managing program")
    assert match_form("Program Management") == match_form("program managed")
    assert match_form("Utilities & Companies") == match_form("utility and company")


def test_words_naming_other_work_keep_their_form() -> None:
    assert stem("accounting") == "accounting"
    assert match_form("Accounting Manager") != match_form("Account Manager")
    assert match_form("Programmer") != match_form("Program")


@pytest.mark.parametrize(
    "title",
    [
        "Mgr, Key Accts",
        "Sr. Acct Exec",
        "Bus Dev Rep",
        "Cust Rel Coord",
        "Prog Mgr",
        "Proj. Coord.",
    ],
)
def test_abbreviated_titles_match_their_area(classifier: JobClassifier, title: str) -> None:
    assert classify(classifier, title, "Electric utility")[0] == QUALIFYING


def test_plural_and_british_spellings_match(classifier: JobClassifier) -> None:
    assert classify(classifier, "Account Managers", "Utilities")[0] == QUALIFYING
    assert classify(classifier, "Programme Manager", "Utilities")[0] == QUALIFYING


def test_duties_with_a_verb_and_an_area_object_show_the_area(classifier: JobClassifier) -> None:
    result, matched = classify(
        classifier,
        "Energy Solutions Advisor",
        "Electric utility",
        "Oversaw commercial customer accounts",
    )
    assert result == QUALIFYING
    assert "account management" in matched


def test_bookkeeping_accounts_are_not_account_management(classifier: JobClassifier) -> None:
    result, matched = classify(
        classifier, "Finance Clerk III", "Electric utility", "Managed accounts payable"
    )
    assert result != QUALIFYING
    assert "matched area 'account management'" not in matched


def test_a_non_professional_word_alone_names_no_occupation(classifier: JobClassifier) -> None:
    # O*NET lists "Intern" under physicians; an applicant's "Intern" is not that
    result, matched = classify(classifier, "Intern", "Electric utility")
    assert result == UNCERTAIN
    assert "Physicians" not in matched


# ------------------------------------------------------------------ near matches


@pytest.mark.parametrize(
    "title",
    [
        "Acct Manger",
        "Acount Executive",
        "Progam Manager",
        "Gerente de Proyectos",
        "Program Specialist",
    ],
)
def test_near_matches_are_uncertain(classifier: JobClassifier, title: str) -> None:
    result, matched = classify(classifier, title, "Electric utility")
    assert result == UNCERTAIN
    assert matched.startswith(NEAR_MATCH)


def test_a_near_match_is_never_rejected_even_in_an_unrelated_industry(
    classifier: JobClassifier,
) -> None:
    assert classify(classifier, "Acct Manger", "Retail")[0] == UNCERTAIN


# ------------------------------------------------------------------ occupations


@pytest.mark.parametrize(
    "title",
    ["Registered Nurse", "Software Engineer", "Lineworker", "Pharmacist", "Dental Hygienist"],
)
def test_a_recognised_occupation_far_from_the_areas_is_not_qualifying(
    classifier: JobClassifier, title: str
) -> None:
    result, matched = classify(classifier, title, "Electric utility")
    assert result == NOT_QUALIFYING
    assert matched.startswith("a known occupation (")
    assert "outside customer relations, account management" in matched


def test_an_occupation_only_some_areas_cover_is_uncertain(classifier: JobClassifier) -> None:
    # "Operations Manager" names general and operations managers (program management
    # covers them) and media technical directors (nothing covers them)
    result, matched = classify(classifier, "Operations Manager", "Waste management")
    assert result == UNCERTAIN
    assert matched.startswith(OCCUPATION_DOUBT)


def test_a_neighbouring_occupation_is_uncertain_not_rejected(classifier: JobClassifier) -> None:
    # Sustainability specialists share a SOC minor group with management analysts
    assert classify(classifier, "Energy Analyst", "Electric utility")[0] == UNCERTAIN


def test_duties_about_the_areas_subjects_keep_another_occupation_from_rejection(
    classifier: JobClassifier,
) -> None:
    bare = classify(classifier, "Energy Advisor", "Electric utility", "Audited buildings")
    assert bare[0] == NOT_QUALIFYING
    result, matched = classify(
        classifier, "Energy Advisor", "Electric utility", "Advised customers on their bills"
    )
    assert result == UNCERTAIN
    assert "the duties mention 'customer'" in matched


def test_english_words_are_not_read_as_another_language(classifier: JobClassifier) -> None:
    # "cliente" is Spanish for customer; "client" must not become "customer"
    _, matched = classify(classifier, "Client Success Lead", "Software")
    assert "another language" not in matched


def test_an_unrecognised_title_is_uncertain(classifier: JobClassifier) -> None:
    result, matched = classify(classifier, "Grid Whisperer", "Electric utility")
    assert result == UNCERTAIN
    assert matched.startswith(UNRECOGNISED_TITLE)


def test_a_generic_one_word_title_is_never_rejected(classifier: JobClassifier) -> None:
    assert classify(classifier, "Analyst", "Banking")[0] == UNCERTAIN


# ------------------------------------------------------------------ industries


@pytest.mark.parametrize(
    "industry",
    [
        "Electric cooperative",
        "Electric membership corporation",
        "Public power agency",
        "Community choice aggregation",
        "Water and power department",
        "Retail electricity supplier",
        "Natural gas distribution",
    ],
)
def test_every_kind_of_utility_is_listed(classifier: JobClassifier, industry: str) -> None:
    assert classify(classifier, "Account Manager", industry)[0] == QUALIFYING


@pytest.mark.parametrize("industry", ["Telecommunications", "Transit", "Local government"])
def test_related_but_not_sure_industries_go_to_review(
    classifier: JobClassifier, industry: str
) -> None:
    assert classify(classifier, "Account Manager", industry)[0] == UNCERTAIN


def test_an_unrelated_industry_rejects_unless_the_jobs_own_words_tie_it(
    classifier: JobClassifier,
) -> None:
    assert classify(classifier, "Account Manager", "Hospitality")[0] == NOT_QUALIFYING
    tied, matched = classify(
        classifier, "Account Manager", "Retail", "Sold electricity plans to businesses"
    )
    assert tied == UNCERTAIN
    assert "own words name 'electricity'" in matched


def test_a_blank_industry_reads_the_employer(classifier: JobClassifier) -> None:
    assert classify(classifier, "Key Account Rep", "", employer="Pacific Gas & Electric")[0] == (
        QUALIFYING
    )
    assert classify(classifier, "Key Account Rep", "", employer="Acme Corp")[0] == UNCERTAIN


# ------------------------------------------------------------------ tables and proposals


def test_the_derived_tables_carry_their_attribution() -> None:
    for name in ("onet-occupations.tsv", "naics-codes.tsv"):
        first = (DATA_DIR / name).read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("# ")
    with gzip.open(DATA_DIR / "onet-titles.tsv.gz", "rt", encoding="utf-8") as handle:
        assert "O*NET 30.1 Database" in handle.readline()
    assert "Census Bureau" in (DATA_DIR / "naics-codes.tsv").read_text(encoding="utf-8")[:400]


def test_the_derived_tables_are_read_in_the_current_match_form() -> None:
    assert "29-1141.00" in occupation_table().titles.codes(match_form("Registered Nurse"))
    assert "221210" in industry_table().phrases.codes(match_form("Natural gas distribution"))
    # the Census index's inversions are undone ("Gas, natural, distribution")
    assert "221210" in industry_table().phrases.codes(match_form("natural gas distribution"))


def test_propose_codes_finds_occupations_and_industries() -> None:
    proposal = propose_codes("account management in the utility industry")
    assert any(code == "11-2022.00" for code, _, _ in proposal.occupations)
    assert any(code.startswith("22") for code, _, _ in proposal.industries)
    assert propose_codes("").occupations == []


# ------------------------------------------------------------------ the labelled set


def test_the_analyst_labelled_jobs_are_never_falsely_rejected(classifier: JobClassifier) -> None:
    with LABELLED.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) >= 150
    engine_to_label = {
        QUALIFYING: "qualified",
        UNCERTAIN: "review",
        NOT_QUALIFYING: "not_qualified",
    }
    pairs = [
        (
            row["analyst"],
            engine_to_label[
                classify(classifier, row["title"], row["industry"], row["duties"], row["employer"])[
                    0
                ]
            ],
        )
        for row in rows
    ]
    false_rejections = [p for p in pairs if p[0] != "not_qualified" and p[1] == "not_qualified"]
    false_qualifications = [p for p in pairs if p[0] != "qualified" and p[1] == "qualified"]
    assert false_rejections == []
    assert len(false_qualifications) <= 0.02 * len(rows)
    analyst_review = sum(a == "review" for a, _ in pairs) / len(rows)
    engine_review = sum(e == "review" for _, e in pairs) / len(rows)
    assert engine_review <= analyst_review + 0.10
