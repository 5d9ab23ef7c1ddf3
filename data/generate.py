"""Synthetic applicant batches for the City of Alameda Account Manager posting (class 7616).

Writes the wide form (one CSV row per applicant) or the long form (applicants.csv,
jobs.csv, education.csv) described in DESIGN.md. Titles, employers, industries, degrees
and majors are drawn so that they hit the shared vocabulary in realistic proportions:
qualifying, unrelated and ambiguous evidence all occur.

Every value is drawn as an integer code into a small pool of strings, with numpy, so a
million applicants take seconds: the pools are CSV-escaped once and rows are joined from
them in chunks. The same seed always gives byte-identical files, and the wide and long
files of one seed describe the same applicants.

Run as a script::

    python data/generate.py --n 300 --seed 7616 --form wide --out applicants.csv

or import it::

    from data.generate import generate_applicants
    batch = generate_applicants(300, seed=7616)
    batch.write_wide("applicants.csv")
"""

from __future__ import annotations

import argparse
import calendar
import sys
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

Codes = npt.NDArray[np.int64]
Strings = npt.NDArray[np.object_]

MAX_JOBS = 5
MAX_EDUCATION = 3
DEFAULT_AS_OF = date(2026, 11, 26)
DEFAULT_IMPACT_GROUP = ("eeo_sex", "Female")

JOB_FIELDS = (
    "title",
    "employer",
    "industry",
    "start",
    "end",
    "hours_per_week",
    "duties",
    "qualifying_percent",
)
EDUCATION_FIELDS = (
    "degree",
    "major",
    "institution",
    "accredited",
    "completed",
    "units",
    "unit_type",
)
PERSON_FIELDS = ("applicant_id", "first_name", "last_name", "email")
LICENSE_FIELDS = ("drivers_license", "drivers_license_state", "certificates")
EEO_FIELDS = ("eeo_sex", "eeo_race_ethnicity")
APPLICANT_FIELDS = PERSON_FIELDS + LICENSE_FIELDS + EEO_FIELDS


def wide_columns(max_jobs: int = MAX_JOBS, max_education: int = MAX_EDUCATION) -> list[str]:
    """The wide-form header, in the order of DESIGN.md "Applicant CSV"."""
    columns = list(PERSON_FIELDS)
    for n in range(1, max_education + 1):
        columns += [f"edu{n}_{field}" for field in EDUCATION_FIELDS]
    for n in range(1, max_jobs + 1):
        columns += [f"job{n}_{field}" for field in JOB_FIELDS]
    return columns + list(LICENSE_FIELDS) + list(EEO_FIELDS)


# --------------------------------------------------------------------------- vocabulary
# Titles: (title, matches an experience area, duty group). Non-professional words
# (intern, assistant, trainee) come from the vocabulary's list.
OFFICE_TITLES: list[tuple[str, bool, str]] = [
    ("Key Account Manager", True, "account"),
    ("Account Manager", True, "account"),
    ("Account Executive", True, "account"),
    ("Senior Account Representative", True, "account"),
    ("Relationship Manager", True, "account"),
    ("Program Manager", True, "program"),
    ("Program Coordinator", True, "program"),
    ("Energy Efficiency Program Manager", True, "program"),
    ("Project Manager", True, "project"),
    ("Project Coordinator", True, "project"),
    ("Business Development Manager", True, "bizdev"),
    ("Business Analyst", True, "process"),
    ("Customer Relations Specialist", True, "relations"),
    ("Customer Success Manager", True, "relations"),
    ("Customer Service Representative", False, "service"),
    ("Customer Service Representative", False, "service"),
    ("Programmer", False, "tech"),
    ("Software Engineer", False, "tech"),
    ("Energy Analyst", False, "analysis"),
    ("Rate Analyst", False, "analysis"),
    ("Financial Analyst", False, "analysis"),
    ("Administrative Analyst", False, "generic"),
    ("Marketing Specialist", False, "marketing"),
    ("Office Manager", False, "generic"),
    ("Sales Representative", False, "sales"),
    ("Intern", False, "intern"),
    ("Marketing Assistant", False, "intern"),
    ("Project Management Intern", True, "intern"),
    ("Customer Programs Assistant", True, "intern"),
    ("Account Management Trainee", True, "intern"),
]
OFFICE_TITLE_WEIGHTS = [
    5, 6, 5, 3, 2, 5, 4, 2, 5, 4, 4, 3, 3, 2,
    7, 5, 3, 3, 4, 2, 3, 3, 3, 3, 3, 3, 3, 1, 1, 1,
]  # fmt: skip
RETAIL_TITLES: list[tuple[str, bool, str]] = [
    ("Sales Associate", False, "retail"),
    ("Cashier", False, "retail"),
    ("Shift Supervisor", False, "retail"),
    ("Store Manager", False, "retail"),
    ("Server", False, "restaurant"),
    ("Customer Service Representative", False, "service"),
    ("Account Manager", True, "account"),
]
RETAIL_TITLE_WEIGHTS = [8, 4, 4, 3, 4, 4, 1]

DUTIES: dict[str, list[str]] = {
    "account": [
        "Managed a portfolio of key accounts for commercial and government customers",
        "Account management for large commercial customers; resolved billing and rate issues",
        "Single point of contact for business customers, site visits and presentations",
        "Grew customer satisfaction scores through regular account reviews",
    ],
    "program": [
        "Managed energy efficiency rebate programs from design through evaluation",
        "Coordinated customer programs, outreach events and marketing materials",
        "Program management for an electric vehicle charger incentive",
    ],
    "project": [
        "Led project management for meter upgrade and billing system projects",
        "Coordinated schedules, budgets and vendors for capital projects",
        "Tracked project milestones and reported status to leadership",
    ],
    "bizdev": [
        "Drove business development with new commercial developments",
        "Identified new business opportunities and negotiated partnerships",
    ],
    "process": [
        "Business process improvement for customer billing and service orders",
        "Mapped workflows and led process improvement workshops",
    ],
    "relations": [
        "Customer relations for commercial and residential customers",
        "Handled escalations and built client relations with key customers",
    ],
    "service": [
        "Answered customer calls about billing, start and stop service",
        "Processed payments and service orders",
        "Handled escalations and customer relations for commercial accounts",
    ],
    "tech": [
        "Wrote and maintained billing system software",
        "Developed reports and integrations for the customer information system",
    ],
    "analysis": [
        "Analyzed load and usage data and prepared forecasts",
        "Prepared rate and budget analyses for management",
    ],
    "marketing": [
        "Wrote newsletters, web content and social media posts",
        "Planned campaigns and measured their results",
    ],
    "generic": [
        "Prepared reports and supported department staff",
        "Scheduled meetings, kept records and ordered supplies",
    ],
    "sales": [
        "Met monthly sales targets selling service plans",
        "Made cold calls and followed up on leads",
    ],
    "retail": [
        "Assisted customers, stocked shelves and ran the register",
        "Opened and closed the store and trained new staff",
    ],
    "restaurant": [
        "Took orders, served guests and handled payments",
        "Served guests in a busy restaurant",
    ],
    "intern": [
        "Supported program staff with data entry and event logistics",
        "Assisted account managers with customer mailings",
        "Helped with surveys and reports",
    ],
}

# Employers: (name, industry as an ATS would show it, category).
EMPLOYERS: list[tuple[str, str, str]] = [
    ("Pacific Gas and Electric Company", "Electric utility", "utility"),
    ("PG&E", "Utilities", "utility"),
    ("SMUD", "Electric utility", "utility"),
    ("Alameda Municipal Power", "Municipal utility", "utility"),
    ("Southern California Edison", "Electric utility", "utility"),
    ("East Bay Municipal Utility District", "Water utility", "utility"),
    ("Santa Clara Valley Water District", "Water", "utility"),
    ("Silicon Valley Power", "Public utility", "utility"),
    ("San Diego Gas & Electric", "Utilities", "utility"),
    ("East Bay Community Energy", "Community choice aggregator", "utility"),
    ("SunPower", "Solar", "related"),
    ("Sunrun", "Renewable energy", "related"),
    ("Bloom Energy", "Energy", "related"),
    ("AT&T", "Telecommunications", "related"),
    ("Comcast", "Telecommunications", "related"),
    ("BART", "Transit", "related"),
    ("AC Transit", "Transportation", "related"),
    ("City of Oakland", "Local government", "related"),
    ("City of Alameda", "Municipal government", "related"),
    ("Chevron", "Oil and gas", "related"),
    ("Target", "Retail", "unrelated"),
    ("Safeway", "Retail", "unrelated"),
    ("Macy's", "Retail", "unrelated"),
    ("Chipotle Mexican Grill", "Restaurant", "unrelated"),
    ("Starbucks", "Food service", "unrelated"),
    ("Marriott", "Hospitality", "unrelated"),
    ("Sephora", "Cosmetics", "unrelated"),
    ("Acme Corp", "", "ambiguous"),
    ("Deloitte Consulting", "Consulting", "ambiguous"),
    ("Accenture", "Management consulting", "ambiguous"),
    ("Kaiser Permanente", "Healthcare", "ambiguous"),
    ("Salesforce", "Software", "ambiguous"),
    ("Wells Fargo", "Banking", "ambiguous"),
    ("Bay Area Staffing Group", "Staffing", "ambiguous"),
    ("Clorox", "Consumer goods", "ambiguous"),
]
EMPLOYER_CATEGORY_WEIGHTS = {"utility": 0.28, "related": 0.27, "unrelated": 0.25, "ambiguous": 0.20}

# Degrees: (text, level group). "unrecognised" text is not in the vocabulary.
DEGREES: list[tuple[str, str, float]] = [
    ("BA", "bachelor", 8),
    ("B.A.", "bachelor", 4),
    ("BS", "bachelor", 6),
    ("B.S.", "bachelor", 5),
    ("B.Sc.", "bachelor", 1),
    ("BBA", "bachelor", 3),
    ("Bachelor of Science", "bachelor", 6),
    ("Bachelor of Arts", "bachelor", 6),
    ("Bachelor of Business Administration", "bachelor", 2),
    ("AA", "associate", 5),
    ("AS", "associate", 3),
    ("Associate of Arts", "associate", 4),
    ("Associate of Science", "associate", 2),
    ("MBA", "master", 5),
    ("MPA", "master", 2),
    ("MS", "master", 2),
    ("Master of Science", "master", 2),
    ("MA", "master", 1),
    ("PhD", "doctorate", 1),
    ("Ph.D.", "doctorate", 1),
    ("High School Diploma", "school", 10),
    ("GED", "school", 3),
    ("None", "school", 2),
    ("Certificate of Completion", "unrecognised", 3),
    ("Some college", "unrecognised", 3),
    ("Vocational certificate", "unrecognised", 2),
]
# Majors, by how they relate to the posting's fields: (major, weight).
MAJORS: list[tuple[str, float]] = [
    ("Business Administration", 10),
    ("Economics", 5),
    ("Engineering", 2),
    ("Environmental Studies", 3),
    ("Public Administration", 3),
    ("Energy Resource Management", 1),
    ("Electrical Engineering", 3),
    ("Mechanical Engineering", 2),
    ("Marketing", 4),
    ("Finance", 4),
    ("Accounting", 3),
    ("Environmental Science", 3),
    ("Public Policy", 2),
    ("Business", 3),
    ("Communications", 5),
    ("Political Science", 4),
    ("Urban Studies", 2),
    ("Mathematics", 2),
    ("Physics", 1),
    ("Sustainability", 1),
    ("Information Systems", 2),
    ("Art History", 3),
    ("Biology", 4),
    ("Psychology", 5),
    ("English", 3),
    ("Sociology", 3),
    ("Nursing", 2),
    ("Music", 1),
    ("Liberal Studies", 2),
    ("General Studies", 2),
    ("", 5),
]
INSTITUTIONS: dict[str, list[str]] = {
    "university": [
        "University of California, Berkeley",
        "California State University, East Bay",
        "San Francisco State University",
        "San Jose State University",
        "UC Davis",
        "Stanford University",
        "Sacramento State",
        "University of Phoenix",
        "Universidad Nacional Autónoma de México",
    ],
    "college": ["College of Alameda", "Laney College", "Chabot College", "Diablo Valley College"],
    "school": ["Alameda High School", "Encinal High School", "Oakland Technical High School"],
}

FIRST_NAMES = [
    "Maria", "James", "Linh", "David", "Aisha", "Michael", "Jennifer", "Wei", "Carlos",
    "Emily", "Jasmine", "Robert", "Priya", "Daniel", "Sofía", "Kevin", "Mei", "Jessica",
    "Anthony", "Fatima", "Brian", "Andrea", "Hiroshi", "Rachel", "Luis", "Ashley", "Tuan",
    "Olivia", "Marcus", "Grace", "Ahmed", "Chloé", "Samuel", "Renée", "Diego", "Hannah",
    "Noah", "Keanu", "Leilani", "Tyrone", "Elena", "Raj", "Kimberly", "Omar", "Angela",
    "Ethan", "Nadia", "Jamal", "Lucía", "Christopher",
]  # fmt: skip
LAST_NAMES = [
    "Garcia", "Smith", "Nguyen", "Johnson", "Chen", "Williams", "Martinez", "Lee", "Brown",
    "Rodriguez", "Wong", "Davis", "Patel", "Lopez", "Kim", "Jackson", "Hernández", "Tran",
    "Miller", "Singh", "Wilson", "Gonzalez", "Yamamoto", "Anderson", "Pérez", "Thomas",
    "Le", "Moore", "Kahale", "Taylor", "Ali", "White", "Ramírez", "Harris", "Huang",
    "Clark", "O'Brien", "Lewis", "Walker", "Khan", "Young", "Müller", "Robinson", "Flores",
    "Scott", "Begay", "Washington", "Cohen", "Reyes", "Park",
]  # fmt: skip

EEO_SEX = [
    ("Female", 0.47),
    ("Male", 0.45),
    ("Non-binary", 0.015),
    ("Declined to state", 0.035),
    ("", 0.03),
]
EEO_RACE = [
    ("Hispanic or Latino", 0.22),
    ("White", 0.32),
    ("Black or African American", 0.09),
    ("Asian", 0.25),
    ("Native Hawaiian or Other Pacific Islander", 0.01),
    ("American Indian or Alaska Native", 0.01),
    ("Two or More Races", 0.05),
    ("Declined to state", 0.03),
    ("", 0.02),
]
CERTIFICATES = [
    ("", 85),
    ("PMP", 4),
    ("Certified Energy Manager (CEM)", 2),
    ("Lean Six Sigma Green Belt", 2),
    ("PMP; Lean Six Sigma Green Belt", 1),
    ("Salesforce Administrator", 2),
    ("CAPM", 2),
    ("Notary Public", 2),
]

# Date formats of DESIGN.md, with how often ATS exports use them.
DATE_FORMATS: list[tuple[str, float]] = [
    ("iso", 0.34),  # 2019-03-15
    ("us", 0.20),  # 03/15/2019
    ("us_short", 0.10),  # 3/15/2019
    ("iso_month", 0.10),  # 2019-03
    ("us_month", 0.10),  # 03/2019
    ("mon_year", 0.08),  # Mar 2019
    ("month_year", 0.08),  # March 2019
]
DATE_BASE = date(1970, 1, 1)

# Problem rows the loader must report (default mode only).
FORMULA_DUTIES = '=HYPERLINK("http://example.com/cv","Download CV")'
BULLET_DUTIES = "- Managed key accounts for commercial customers"
BAD_START_VALUES = ["sometime 2019", "13/45/2019", "TBD", "Spring '18"]


# --------------------------------------------------------------------------- helpers
def csv_escape(value: str) -> str:
    """Quote a field the way csv.writer does with QUOTE_MINIMAL."""
    if any(char in value for char in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def _ascii_slug(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(char for char in decomposed if char.isascii() and char.isalpha()).lower()


class Pool:
    """Distinct strings addressed by integer codes; code 0 is always the blank string."""

    def __init__(self, values: Sequence[str] = ()) -> None:
        self.values: list[str] = [""]
        self._index: dict[str, int] = {"": 0}
        for value in values:
            self.add(value)

    def add(self, value: str) -> int:
        """Return the code of value, adding it when new."""
        code = self._index.get(value)
        if code is None:
            code = len(self.values)
            self.values.append(value)
            self._index[value] = code
        return code

    def codes(self, values: Sequence[str]) -> Codes:
        """Codes of several values, as an array."""
        return np.array([self.add(value) for value in values], dtype=np.int64)

    def raw(self) -> Strings:
        """The strings, indexable by code."""
        return np.array(self.values, dtype=object)

    def escaped(self) -> Strings:
        """The strings quoted for CSV, indexable by code."""
        return np.array([csv_escape(value) for value in self.values], dtype=object)


@dataclass
class Column:
    """One field: a pool and a code per cell (shape (n,) or (n, slots))."""

    pool: Pool
    codes: Codes


def _choose(rng: np.random.Generator, size: Any, weights: Sequence[float]) -> Codes:
    """Indices drawn with the given relative weights (inverse CDF of uniform draws)."""
    cumulative = np.cumsum(np.asarray(weights, dtype=float))
    cumulative /= cumulative[-1]
    codes: Codes = np.searchsorted(cumulative, rng.random(size), side="right").astype(np.int64)
    return np.minimum(codes, len(cumulative) - 1)


def _date_text(day: date, fmt: str) -> str:
    if fmt == "iso":
        return day.isoformat()
    if fmt == "us":
        return f"{day.month:02d}/{day.day:02d}/{day.year}"
    if fmt == "us_short":
        return f"{day.month}/{day.day}/{day.year}"
    if fmt == "iso_month":
        return f"{day.year}-{day.month:02d}"
    if fmt == "us_month":
        return f"{day.month:02d}/{day.year}"
    if fmt == "mon_year":
        return f"{calendar.month_abbr[day.month]} {day.year}"
    return f"{calendar.month_name[day.month]} {day.year}"


# --------------------------------------------------------------------------- the batch
@dataclass
class ApplicantBatch:
    """Generated applicants, held as codes into string pools; write with write_wide/long."""

    n: int
    applicant: dict[str, Column]
    jobs: dict[str, Column]
    education: dict[str, Column]
    job_count: Codes
    education_count: Codes

    def wide_header(self) -> list[str]:
        """Column names of the wide form."""
        return wide_columns()

    def _wide_parts(self) -> list[tuple[Strings, Codes]]:
        return [(pool.escaped(), codes) for pool, codes in self._wide_part_pools()]

    def write_wide(self, path: str | Path, chunk_rows: int = 50_000) -> None:
        """Write one CSV row per applicant (UTF-8, "\\n" line ends)."""
        parts = self._wide_parts()
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="") as out:
            out.write(",".join(self.wide_header()) + "\n")
            _write_rows(out, parts, self.n, chunk_rows)

    def write_long(self, folder: str | Path, chunk_rows: int = 50_000) -> None:
        """Write applicants.csv, jobs.csv and education.csv into folder."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        applicant_parts = [
            (self.applicant[field].pool.escaped(), self.applicant[field].codes)
            for field in APPLICANT_FIELDS
        ]
        with open(folder / "applicants.csv", "w", encoding="utf-8", newline="") as out:
            out.write(",".join(APPLICANT_FIELDS) + "\n")
            _write_rows(out, applicant_parts, self.n, chunk_rows)
        ids = self.applicant["applicant_id"]
        for name, entries, count, fields, slots in (
            ("jobs.csv", self.jobs, self.job_count, JOB_FIELDS, MAX_JOBS),
            (
                "education.csv",
                self.education,
                self.education_count,
                EDUCATION_FIELDS,
                MAX_EDUCATION,
            ),
        ):
            present = np.arange(slots)[None, :] < count[:, None]
            rows = int(present.sum())
            parts = [(ids.pool.escaped(), np.repeat(ids.codes, count))]
            parts += [
                (entries[field].pool.escaped(), entries[field].codes[present]) for field in fields
            ]
            with open(folder / name, "w", encoding="utf-8", newline="") as out:
                out.write(",".join(("applicant_id",) + fields) + "\n")
                _write_rows(out, parts, rows, chunk_rows)

    def wide_records(self) -> Iterator[dict[str, str]]:
        """Each applicant as a dict of the wide columns (for tests and small batches)."""
        header = self.wide_header()
        parts = [(pool.raw(), codes) for pool, codes in self._wide_part_pools()]
        for row in range(self.n):
            yield {
                name: str(values[codes[row]])
                for name, (values, codes) in zip(header, parts, strict=True)
            }

    def _wide_part_pools(self) -> list[tuple[Pool, Codes]]:
        parts: list[tuple[Pool, Codes]] = []
        for field in PERSON_FIELDS:
            parts.append((self.applicant[field].pool, self.applicant[field].codes))
        for slot in range(MAX_EDUCATION):
            for field in EDUCATION_FIELDS:
                parts.append((self.education[field].pool, self.education[field].codes[:, slot]))
        for slot in range(MAX_JOBS):
            for field in JOB_FIELDS:
                parts.append((self.jobs[field].pool, self.jobs[field].codes[:, slot]))
        for field in LICENSE_FIELDS + EEO_FIELDS:
            parts.append((self.applicant[field].pool, self.applicant[field].codes))
        return parts


def _write_rows(out: Any, parts: list[tuple[Strings, Codes]], rows: int, chunk_rows: int) -> None:
    for begin in range(0, rows, chunk_rows):
        end = min(begin + chunk_rows, rows)
        cells = [pool[codes[begin:end]] for pool, codes in parts]
        lines = map(",".join, zip(*cells, strict=True))
        out.write("\n".join(lines))
        out.write("\n")


# --------------------------------------------------------------------------- generation
def generate_applicants(
    n: int,
    seed: int = 7616,
    as_of: date = DEFAULT_AS_OF,
    clean: bool = False,
    impact_skew: float = 0.0,
    impact_group: tuple[str, str] = DEFAULT_IMPACT_GROUP,
) -> ApplicantBatch:
    """Generate n applicants for the Account Manager posting.

    clean: only valid values, unique ids, no problem rows (for differential tests).
    impact_skew: share (0–1) of the area-matching jobs of applicants in impact_group
    (column, value) that are replaced by non-qualifying titles, to demonstrate the
    adverse-impact report. 0 keeps demographics independent of qualifications.
    """
    if n < 0:
        raise ValueError(f"n must be 0 or more, not {n}")
    if not 0.0 <= impact_skew <= 1.0:
        raise ValueError(f"impact_skew must be between 0 and 1, not {impact_skew}")
    if impact_group[0] not in EEO_FIELDS:
        raise ValueError(f"impact_group column must be one of {EEO_FIELDS}, not {impact_group[0]}")
    rng = np.random.default_rng(seed)
    applicant: dict[str, Column] = {}

    # People and demographics.
    first_pool, last_pool = Pool(FIRST_NAMES), Pool(LAST_NAMES)
    first_codes = rng.integers(1, len(first_pool.values), n)
    last_codes = rng.integers(1, len(last_pool.values), n)
    sex_pool = Pool([value for value, _ in EEO_SEX])
    race_pool = Pool([value for value, _ in EEO_RACE])
    sex_codes = sex_pool.codes([v for v, _ in EEO_SEX])[_choose(rng, n, [w for _, w in EEO_SEX])]
    race_codes = race_pool.codes([v for v, _ in EEO_RACE])[
        _choose(rng, n, [w for _, w in EEO_RACE])
    ]
    applicant["first_name"] = Column(first_pool, first_codes)
    applicant["last_name"] = Column(last_pool, last_codes)
    applicant["eeo_sex"] = Column(sex_pool, sex_codes)
    applicant["eeo_race_ethnicity"] = Column(race_pool, race_codes)

    job_count = _choose(rng, n, [0.05, 0.10, 0.20, 0.30, 0.20, 0.15])
    education_count = _choose(rng, n, [0.10, 0.40, 0.35, 0.15])

    jobs = _generate_jobs(rng, n, job_count, as_of, clean)
    education = _generate_education(rng, n, education_count)
    _apply_impact_skew(rng, applicant, jobs, job_count, impact_skew, impact_group)
    _fill_duties(rng, jobs)

    # Licenses and certificates.
    license_pool = Pool(["yes", "no"])
    license_codes = _choose(rng, n, [0.15, 0.75, 0.10])
    state_pool = Pool(["CA", "NV"])
    state_codes = np.where(license_codes == 1, _choose(rng, n, [0.08, 0.87, 0.05]), 0)
    certificate_pool = Pool([value for value, _ in CERTIFICATES])
    certificate_codes = certificate_pool.codes([v for v, _ in CERTIFICATES])[
        _choose(rng, n, [w for _, w in CERTIFICATES])
    ]
    applicant["drivers_license"] = Column(license_pool, license_codes)
    applicant["drivers_license_state"] = Column(state_pool, state_codes)
    applicant["certificates"] = Column(certificate_pool, certificate_codes)

    # Identifiers and e-mail addresses: per-row strings, never needing CSV quotes.
    ids: list[str] = [str(100001 + row) for row in range(n)]
    blank_email = rng.random(n) < 0.04
    batch = ApplicantBatch(n, applicant, jobs, education, job_count, education_count)
    if not clean:
        _insert_problem_rows(rng, batch, ids)
    first_slugs = np.array([_ascii_slug(v) for v in first_pool.values], dtype=object)
    last_slugs = np.array([_ascii_slug(v) for v in last_pool.values], dtype=object)
    id_array = np.array(ids, dtype=object)
    email = (
        first_slugs[applicant["first_name"].codes] + "." + last_slugs[applicant["last_name"].codes]
    )
    email = email + np.where(id_array == "", "", "." + id_array) + "@example.com"
    email = np.where(blank_email, "", email)
    applicant["email"] = Column(_row_pool(email), np.arange(1, n + 1, dtype=np.int64))
    applicant["applicant_id"] = Column(_row_pool(id_array), np.arange(1, n + 1, dtype=np.int64))
    return batch


class _RowPool(Pool):
    """A pool with one string per row (ids, e-mail), built without de-duplication."""

    def __init__(self, values: Strings) -> None:
        self.values = [""] + values.tolist()
        self._index = {}

    def escaped(self) -> Strings:
        return np.array(self.values, dtype=object)


def _row_pool(values: Strings) -> Pool:
    return _RowPool(values)


def _generate_jobs(
    rng: np.random.Generator, n: int, job_count: Codes, as_of: date, clean: bool
) -> dict[str, Column]:
    shape = (n, MAX_JOBS)
    present = np.arange(MAX_JOBS)[None, :] < job_count[:, None]

    # Employer category decides the employer and which title list applies.
    categories = list(EMPLOYER_CATEGORY_WEIGHTS)
    category = _choose(rng, shape, list(EMPLOYER_CATEGORY_WEIGHTS.values()))
    employer_pool, industry_pool, title_pool = Pool(), Pool(), Pool()
    employer_codes = np.zeros(shape, dtype=np.int64)
    industry_codes = np.zeros(shape, dtype=np.int64)
    for index, name in enumerate(categories):
        members = [entry for entry in EMPLOYERS if entry[2] == name]
        names = employer_pool.codes([entry[0] for entry in members])
        industries = industry_pool.codes([entry[1] for entry in members])
        pick = rng.integers(0, len(members), shape)
        mask = category == index
        employer_codes[mask] = names[pick[mask]]
        industry_codes[mask] = industries[pick[mask]]
    # ATS exports often leave the industry blank; then only the employer name says it.
    industry_codes[rng.random(shape) < 0.15] = 0

    office = title_pool.codes([t for t, _, _ in OFFICE_TITLES])
    retail = title_pool.codes([t for t, _, _ in RETAIL_TITLES])
    office_pick = office[_choose(rng, shape, OFFICE_TITLE_WEIGHTS)]
    retail_pick = retail[_choose(rng, shape, RETAIL_TITLE_WEIGHTS)]
    unrelated = categories.index("unrelated")
    title_codes = np.where(category == unrelated, retail_pick, office_pick)

    # Timeline, most recent job first: durations, then gaps (negative = overlap).
    as_of_day = (as_of - DATE_BASE).days
    duration = np.clip(rng.gamma(2.0, 480.0, shape), 60, 4000).astype(np.int64)
    gap_kind = _choose(rng, shape, [0.6, 0.25, 0.15])
    gap = np.where(
        gap_kind == 0,
        rng.exponential(120.0, shape).astype(np.int64) + 1,
        np.where(gap_kind == 1, 1, -rng.integers(30, 365, shape)),
    )
    current = rng.random(n) < 0.55
    end_day = np.zeros(shape, dtype=np.int64)
    start_day = np.zeros(shape, dtype=np.int64)
    end_day[:, 0] = np.where(current, as_of_day, as_of_day - rng.integers(15, 500, n))
    start_day[:, 0] = end_day[:, 0] - duration[:, 0] + 1
    for slot in range(1, MAX_JOBS):
        # An overlapping earlier job still ends no later than the later one.
        end_day[:, slot] = np.minimum(start_day[:, slot - 1] - gap[:, slot], end_day[:, slot - 1])
        start_day[:, slot] = end_day[:, slot] - duration[:, slot] + 1
    earliest = (date(1978, 1, 1) - DATE_BASE).days
    start_day = np.maximum(start_day, earliest)
    end_day = np.maximum(end_day, start_day + 30)

    # Date text: a table of every day in every format, addressed by (format, day).
    last_day = as_of_day + 800
    date_pool = Pool()
    formats = [name for name, _ in DATE_FORMATS]
    day_count = last_day - earliest + 1
    table_base = len(date_pool.values)
    for fmt in formats:
        for offset in range(day_count):
            date_pool.values.append(_date_text(DATE_BASE + timedelta(days=earliest + offset), fmt))
    date_fmt = _choose(rng, shape, [w for _, w in DATE_FORMATS])

    def date_codes(days: Codes) -> Codes:
        return table_base + date_fmt * day_count + (np.clip(days, earliest, last_day) - earliest)

    start_codes = date_codes(start_day)
    end_codes = date_codes(end_day)
    ongoing = date_pool.codes(["", "present", "current", "Present", "Current"])
    ongoing_pick = ongoing[_choose(rng, n, [0.4, 0.3, 0.1, 0.15, 0.05])]
    end_codes[:, 0] = np.where(current, ongoing_pick, end_codes[:, 0])

    hours_pool = Pool(["40", "20", "30", "37.5", "32"])
    hours_codes = hours_pool.codes(["", "40", "20", "30", "37.5", "32"])[
        _choose(rng, shape, [0.74, 0.10, 0.06, 0.04, 0.03, 0.03])
    ]
    percent_pool = Pool(["50", "75", "100"])
    percent_codes = percent_pool.codes(["", "50", "75", "100"])[
        _choose(rng, shape, [0.90, 0.05, 0.04, 0.01])
    ]

    if not clean:
        # Bad values the engine must treat as invalid entries (DESIGN.md "Experience").
        kind = _choose(rng, shape, [0.975, 0.005, 0.004, 0.004, 0.003, 0.003, 0.004, 0.002])
        backwards = kind == 1
        end_codes[backwards] = date_codes(start_day - 120)[backwards]
        unreadable = kind == 2
        bad_start = date_pool.codes(BAD_START_VALUES)
        start_codes[unreadable] = bad_start[rng.integers(0, len(BAD_START_VALUES), shape)][
            unreadable
        ]
        start_codes[kind == 3] = 0
        hours_codes[kind == 4] = hours_pool.add("200")
        hours_codes[kind == 5] = hours_pool.add("0")
        percent_codes[kind == 6] = percent_pool.add("150")
        future = kind == 7
        start_codes[future] = date_codes(np.full(shape, as_of_day) + rng.integers(20, 700, shape))[
            future
        ]
        end_codes[future] = 0

    def only_present(codes: Codes) -> Codes:
        return np.where(present, codes, 0)

    return {
        "title": Column(title_pool, only_present(title_codes)),
        "employer": Column(employer_pool, only_present(employer_codes)),
        "industry": Column(industry_pool, only_present(industry_codes)),
        "start": Column(date_pool, only_present(start_codes)),
        "end": Column(date_pool, only_present(end_codes)),
        "hours_per_week": Column(hours_pool, only_present(hours_codes)),
        "duties": Column(Pool(), np.zeros(shape, dtype=np.int64)),
        "qualifying_percent": Column(percent_pool, only_present(percent_codes)),
    }


def _title_table(pool: Pool) -> tuple[npt.NDArray[np.bool_], list[str]]:
    """Per title code: whether it matches an area, and its duty group."""
    area = np.zeros(len(pool.values), dtype=bool)
    group = ["generic"] * len(pool.values)
    for title, matches, duty_group in OFFICE_TITLES + RETAIL_TITLES:
        code = pool.add(title)
        area[code] = matches
        group[code] = duty_group
    return area, group


def _apply_impact_skew(
    rng: np.random.Generator,
    applicant: dict[str, Column],
    jobs: dict[str, Column],
    job_count: Codes,
    impact_skew: float,
    impact_group: tuple[str, str],
) -> None:
    """Replace a share of the group's area-matching titles by non-matching ones."""
    titles = jobs["title"]
    n = job_count.shape[0]
    draw = rng.random((n, MAX_JOBS))
    replacement_titles = titles.pool.codes(
        [t for t, matches, g in OFFICE_TITLES if not matches and g != "intern"]
    )
    replacement = replacement_titles[rng.integers(0, len(replacement_titles), (n, MAX_JOBS))]
    if impact_skew == 0.0:
        return
    column, value = impact_group
    group_code = applicant[column].pool.add(value)
    in_group = applicant[column].codes == group_code
    area, _ = _title_table(titles.pool)
    present = np.arange(MAX_JOBS)[None, :] < job_count[:, None]
    swap = present & in_group[:, None] & area[titles.codes] & (draw < impact_skew)
    titles.codes[swap] = replacement[swap]


def _fill_duties(rng: np.random.Generator, jobs: dict[str, Column]) -> None:
    titles = jobs["title"]
    _, groups = _title_table(titles.pool)
    duties_pool = Pool()
    group_names = list(DUTIES)
    group_codes = {name: duties_pool.codes(DUTIES[name]) for name in group_names}
    # Per title code: the duty codes padded to a common width, and how many there are.
    width = max(len(values) for values in DUTIES.values())
    table = np.zeros((len(titles.pool.values), width), dtype=np.int64)
    sizes = np.ones(len(titles.pool.values), dtype=np.int64)
    for code in range(1, len(titles.pool.values)):
        options = group_codes[groups[code]]
        table[code, : len(options)] = options
        sizes[code] = len(options)
    shape = titles.codes.shape
    pick = (rng.random(shape) * sizes[titles.codes]).astype(np.int64)
    duties = table[titles.codes, pick]
    duties[rng.random(shape) < 0.10] = 0  # duties are often left blank
    duties[titles.codes == 0] = 0
    jobs["duties"] = Column(duties_pool, duties)


def _generate_education(
    rng: np.random.Generator, n: int, education_count: Codes
) -> dict[str, Column]:
    shape = (n, MAX_EDUCATION)
    degree_pool, major_pool, institution_pool = Pool(), Pool(), Pool()
    # The first entry is usually the highest; later ones lean to lower levels.
    later_factor = {"bachelor": 0.5, "associate": 2.0, "master": 0.6, "doctorate": 0.3}
    first_weights = [w for _, _, w in DEGREES]
    later_weights = [w * later_factor.get(group, 1.5) for _, group, w in DEGREES]
    degree_index = np.where(
        np.arange(MAX_EDUCATION)[None, :] == 0,
        _choose(rng, shape, first_weights),
        _choose(rng, shape, later_weights),
    )
    degree_codes = degree_pool.codes([d for d, _, _ in DEGREES])[degree_index]
    level_group = np.array([g for _, g, _ in DEGREES], dtype=object)[degree_index]
    school = level_group == "school"
    associate = level_group == "associate"

    major_codes = major_pool.codes([m for m, _ in MAJORS])[
        _choose(rng, shape, [w for _, w in MAJORS])
    ]
    major_codes[school] = 0
    # Degrees that name their field often leave the major blank.
    names_field = np.isin(degree_codes, degree_pool.codes(["BBA", "MBA", "MPA"]))
    major_codes[names_field & (rng.random(shape) < 0.4)] = 0

    kinds = {"university": ~(school | associate), "college": associate, "school": school}
    institution_codes = np.zeros(shape, dtype=np.int64)
    for kind, mask in kinds.items():
        options = institution_pool.codes(INSTITUTIONS[kind])
        institution_codes[mask] = options[rng.integers(0, len(options), shape)][mask]
    institution_codes[rng.random(shape) < 0.05] = 0

    yes_no = Pool(["yes", "no"])
    accredited = _choose(rng, shape, [0.35, 0.55, 0.10])  # blank, yes, no
    accredited[school] = 0
    completed = _choose(rng, shape, [0.25, 0.63, 0.12])
    completed[school & (completed == 2)] = 1
    units_pool, unit_type_pool = Pool(), Pool(["semester", "quarter"])
    not_completed = completed == 2
    unit_values = rng.integers(6, 121, shape)
    units_codes = np.where(
        not_completed, units_pool.codes([str(v) for v in range(121)])[unit_values], 0
    )
    unit_type_codes = np.where(not_completed, _choose(rng, shape, [0.15, 0.5, 0.35]), 0)

    present = np.arange(MAX_EDUCATION)[None, :] < education_count[:, None]
    columns = {
        "degree": Column(degree_pool, degree_codes),
        "major": Column(major_pool, major_codes),
        "institution": Column(institution_pool, institution_codes),
        "accredited": Column(yes_no, accredited),
        "completed": Column(yes_no, completed),
        "units": Column(units_pool, units_codes),
        "unit_type": Column(unit_type_pool, unit_type_codes),
    }
    for column in columns.values():
        column.codes = np.where(present, column.codes, 0)
    return columns


def _insert_problem_rows(rng: np.random.Generator, batch: ApplicantBatch, ids: list[str]) -> None:
    """Rows the loader must report or keep intact; needs at least 10 applicants."""
    if batch.n < 10:
        return
    rows = rng.choice(batch.n, 10, replace=False).tolist()
    duplicate_a, duplicate_b, blank, zeros, same_number, formula, bullet = rows[:7]
    ids[duplicate_b] = ids[duplicate_a]
    ids[blank] = ""
    ids[zeros] = "00417"  # text: must not become 417, which another row has
    ids[same_number] = "417"
    for row, duties in ((formula, FORMULA_DUTIES), (bullet, BULLET_DUTIES)):
        _ensure_one_job(batch, row)
        batch.jobs["duties"].codes[row, 0] = batch.jobs["duties"].pool.add(duties)
    names = (("José", "Hernández"), ("Zoë", "Dubois"), ("Minh", "Nguyễn"))
    for row, (first, last) in zip(rows[7:], names, strict=True):
        batch.applicant["first_name"].codes[row] = batch.applicant["first_name"].pool.add(first)
        batch.applicant["last_name"].codes[row] = batch.applicant["last_name"].pool.add(last)


def _ensure_one_job(batch: ApplicantBatch, row: int) -> None:
    if batch.job_count[row] > 0:
        return
    batch.job_count[row] = 1
    jobs = batch.jobs
    jobs["title"].codes[row, 0] = jobs["title"].pool.add("Account Executive")
    jobs["employer"].codes[row, 0] = jobs["employer"].pool.add("Comcast")
    jobs["industry"].codes[row, 0] = jobs["industry"].pool.add("Telecommunications")
    jobs["start"].codes[row, 0] = jobs["start"].pool.add("2021-06-01")
    jobs["end"].codes[row, 0] = jobs["end"].pool.add("present")


# --------------------------------------------------------------------------- command line
def main(argv: Sequence[str] | None = None) -> int:
    """Command line: write a batch in the wide or long form."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, required=True, help="number of applicants")
    parser.add_argument("--seed", type=int, default=7616)
    parser.add_argument("--form", choices=["wide", "long"], default="wide")
    parser.add_argument("--out", required=True, help="CSV file (wide) or folder (long)")
    parser.add_argument("--as-of", default=DEFAULT_AS_OF.isoformat(), help="YYYY-MM-DD")
    parser.add_argument("--clean", action="store_true", help="only valid values, no problem rows")
    parser.add_argument(
        "--impact-skew",
        type=float,
        default=0.0,
        help="0-1: share of the impact group's qualifying titles replaced (default 0: none)",
    )
    parser.add_argument(
        "--impact-group",
        default="=".join(DEFAULT_IMPACT_GROUP),
        help="COLUMN=VALUE of the group --impact-skew disadvantages (default eeo_sex=Female)",
    )
    args = parser.parse_args(argv)
    try:
        as_of = date.fromisoformat(args.as_of)
    except ValueError:
        parser.error(f"--as-of {args.as_of!r} is not a date; write it as YYYY-MM-DD")
    column, _, value = args.impact_group.partition("=")
    if args.n < 0:
        parser.error(f"--n {args.n} is negative; give the number of applicants to write")
    if not 0.0 <= args.impact_skew <= 1.0:
        parser.error(f"--impact-skew {args.impact_skew} (impact_skew) must be between 0 and 1")
    if column not in EEO_FIELDS or not value:
        parser.error(
            f"--impact-group {args.impact_group!r} must be COLUMN=VALUE with COLUMN one of "
            f"{', '.join(EEO_FIELDS)}, e.g. eeo_sex=Female"
        )
    batch = generate_applicants(
        args.n,
        seed=args.seed,
        as_of=as_of,
        clean=args.clean,
        impact_skew=args.impact_skew,
        impact_group=(column, value),
    )
    try:
        if args.form == "wide":
            batch.write_wide(args.out)
        else:
            batch.write_long(args.out)
    except OSError as error:
        parser.exit(2, f"cannot write {args.out}: {error.strerror}; choose a writable path\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
