"""Derive the occupation and industry tables the screening package ships.

Reads the O*NET 30.1 text files and the NAICS 2022 code list and Census industry index
(by default from ../shared/data beside the checkout; pass --onet / --naics otherwise) and
writes compact tables to screening/data/:

- onet-occupations.tsv   O*NET-SOC code, Job Zone (blank when O*NET gives none), title
- onet-titles.tsv.gz     match form of a title -> the occupation codes it names
                         (occupation titles, alternate titles, short titles, reported titles)
- naics-codes.tsv        NAICS 2022 code, title
- naics-index.tsv.gz     match form of an index phrase or title -> the NAICS codes it names

Titles are stored in their match form (screening.wording.match_form with no vocabulary
replacements), so the run time only reads them. Re-run this script whenever the stemmer
changes; a test checks that every stored key is still in match form.

    python scripts/build_taxonomy_tables.py [--onet DIR] [--naics DIR] [--out DIR]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import re
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from screening.wording import match_form  # noqa: E402

ONET_NOTICE = (
    "This product includes information from the O*NET 30.1 Database by the U.S. Department "
    "of Labor, Employment and Training Administration (USDOL/ETA). Used under the CC BY 4.0 "
    "license. O*NET(R) is a trademark of USDOL/ETA. Derived: titles reduced to their match "
    "form and grouped by occupation code."
)
NAICS_NOTICE = (
    "Derived from the 2022 North American Industry Classification System (NAICS) codes and "
    "the Census Bureau's 2022 NAICS index, U.S. Census Bureau (a work of the U.S. federal "
    "government). Phrases reduced to their match form and grouped by code."
)
_PARENTHESES = re.compile(r"\([^)]*\)")
#: Trailing words of NAICS titles that applicants leave out ("Retail" for "Retail Trade").
_GENERIC_TAIL = {"trade", "industry", "industries", "services", "service", "activities"}


def _read_tsv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))


def _title_forms(title: str) -> set[str]:
    """Match forms of a title: as written and without any parenthesised part."""
    forms = {match_form(title), match_form(_PARENTHESES.sub(" ", title))}
    inside = _PARENTHESES.findall(title)
    forms.update(match_form(part) for part in inside if len(part.split()) <= 3)
    return {f for f in forms if f}


def build_onet(onet: Path, out: Path) -> tuple[int, int]:
    occupations = _read_tsv(onet / "Occupation Data.txt")
    zones = {r["O*NET-SOC Code"]: r["Job Zone"] for r in _read_tsv(onet / "Job Zones.txt")}
    keys: dict[str, set[str]] = defaultdict(set)
    for row in occupations:
        for form in _title_forms(row["Title"]):
            keys[form].add(row["O*NET-SOC Code"])
    for row in _read_tsv(onet / "Alternate Titles.txt"):
        code = row["O*NET-SOC Code"]
        for title in (row["Alternate Title"], row["Short Title"]):
            if title and title != "n/a":
                for form in _title_forms(title):
                    keys[form].add(code)
    for row in _read_tsv(onet / "Sample of Reported Titles.txt"):
        for form in _title_forms(row["Reported Job Title"]):
            keys[form].add(row["O*NET-SOC Code"])
    with (out / "onet-occupations.tsv").open("w", encoding="utf-8", newline="") as handle:
        handle.write(f"# {ONET_NOTICE}\n")
        for row in occupations:
            code = row["O*NET-SOC Code"]
            handle.write(f"{code}\t{zones.get(code, '')}\t{row['Title']}\n")
    with gzip.open(out / "onet-titles.tsv.gz", "wt", encoding="utf-8", compresslevel=9) as gz:
        gz.write(f"# {ONET_NOTICE}\n")
        for key in sorted(keys):
            gz.write(f"{key}\t{','.join(sorted(keys[key]))}\n")
    return len(occupations), len(keys)


def _index_forms(description: str) -> set[str]:
    """Match forms of a Census index item: as written and with the inversion undone.

    The index inverts phrases ("Gas, natural, distribution"): the second part then reads
    before the first ("natural gas distribution")."""
    text = _PARENTHESES.sub(" ", description).replace(" -- ", ", ")
    parts = [p.strip() for p in text.split(",") if p.strip()]
    forms = {match_form(" ".join(parts))}
    if len(parts) >= 2:
        forms.add(match_form(" ".join([parts[1], parts[0], *parts[2:]])))
    return {f for f in forms if f}


def _naics_title_forms(title: str) -> set[str]:
    """Match forms of a NAICS title, each "and"-joined part alone, generic tails dropped."""
    clean = _PARENTHESES.sub(" ", title).strip()
    forms = {match_form(clean)}
    for part in re.split(r",| and ", clean):
        if part.strip():
            forms.add(match_form(part))
    for form in list(forms):
        words = form.split()
        if len(words) > 1 and words[-1] in {match_form(w) for w in _GENERIC_TAIL}:
            forms.add(" ".join(words[:-1]))
    return {f for f in forms if f}


def build_naics(naics: Path, out: Path) -> tuple[int, int]:
    codes: list[tuple[str, str]] = []
    with (naics / "naics_2022_2-6digit_codes.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.reader(handle):
            if len(row) >= 3 and row[1].strip().replace("-", "").isdigit():
                codes.append((row[1].strip(), row[2].strip()))
    keys: dict[str, set[str]] = defaultdict(set)
    for code, title in codes:
        for form in _naics_title_forms(title):
            keys[form].add(code)
    with (naics / "naics_2022_index.csv").open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        for code, description in reader:
            if code.strip().isdigit():
                for form in _index_forms(description):
                    keys[form].add(code.strip())
    with (out / "naics-codes.tsv").open("w", encoding="utf-8", newline="") as handle:
        handle.write(f"# {NAICS_NOTICE}\n")
        for code, title in codes:
            handle.write(f"{code}\t{title}\n")
    with gzip.open(out / "naics-index.tsv.gz", "wt", encoding="utf-8", compresslevel=9) as gz:
        gz.write(f"# {NAICS_NOTICE}\n")
        for key in sorted(keys):
            gz.write(f"{key}\t{','.join(sorted(keys[key]))}\n")
    return len(codes), len(keys)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    shared = ROOT.parent / "shared" / "data"
    parser.add_argument("--onet", type=Path, default=shared / "onet")
    parser.add_argument("--naics", type=Path, default=shared / "naics")
    parser.add_argument("--out", type=Path, default=ROOT / "screening" / "data")
    args = parser.parse_args(argv)
    for folder, what in ((args.onet, "O*NET 30.1"), (args.naics, "NAICS 2022")):
        if not folder.is_dir():
            print(f"{folder}: not a folder; pass the {what} folder with --onet/--naics")
            return 2
    args.out.mkdir(parents=True, exist_ok=True)
    occupations, titles = build_onet(args.onet, args.out)
    codes, phrases = build_naics(args.naics, args.out)
    print(f"O*NET: {occupations} occupations, {titles} title forms")
    print(f"NAICS: {codes} codes, {phrases} index phrases")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
