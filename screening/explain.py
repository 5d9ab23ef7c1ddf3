"""Reasons a recruiter can read, built from the rules' statuses and the evidence.

Nothing here decides anything: statuses come from the rule engine. This module turns them
and the evidence values into sentences that cite the criterion id, the values used and the
shortfall. Sentences are assembled column-wise over the whole batch (object arrays), so a
million applicants cost seconds, not minutes.
"""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from screening import facts as F
from screening.evidence import (
    INVALID,
    NOT_QUALIFYING,
    QUALIFYING,
    UNCERTAIN,
    combined_codes,
    distinct,
)
from screening.places import US_STATES
from screening.results import Outcome, Status
from screening.ruleset import PATTERN_FAILS
from screening.spec import (
    LEVEL_YEARS,
    EducationRequirement,
    ExperienceRequirement,
    JobSpec,
    Pattern,
)

Texts = np.ndarray[Any, np.dtype[np.object_]]

_LEVEL_WORDS = {
    "none": "no degree",
    "high_school": "a high school diploma",
    "associate": "an associate's degree",
    "bachelor": "a bachelor's degree",
    "master": "a master's degree",
    "doctorate": "a doctorate",
}


def years_text(value: float) -> str:
    """Years for display: two decimals, trailing zeros dropped."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def years_texts(values: np.ndarray[Any, Any]) -> Texts:
    """years_text over an array; NaN (unbounded) becomes 'an unknown number of'."""
    rounded = np.round(np.nan_to_num(values, nan=-1.0), 2)
    uniques, inverse = np.unique(rounded, return_inverse=True)
    table = np.array(
        [years_text(v) if v >= 0 else "an unknown number of" for v in uniques], dtype=object
    )
    return table[inverse.reshape(-1)]


def credit_years(credit: np.ndarray[Any, Any], full_time_hours: int) -> np.ndarray[Any, Any]:
    """Credit as years (floats, for display only); UNBOUNDED becomes NaN."""
    values = credit.astype(np.float64) / F.year_credit(full_time_hours)
    return np.where(credit >= F.UNBOUNDED, np.nan, values)


def _floor_hundredths(values: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Years rounded down to hundredths (what an applicant certainly has is never rounded up)."""
    floored: np.ndarray[Any, Any] = np.floor(np.round(values * 100, 6)) / 100
    return floored


#: date.toordinal() of 1970-01-01, where numpy's datetime64 days start.
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def _month_texts(days: np.ndarray[Any, Any]) -> Texts:
    """'Jun 2024' for each day ordinal, '?' for none (formatted once per distinct month)."""
    days = np.asarray(days, dtype=np.int64)
    out: Texts = np.full(len(days), "?", dtype=object)
    known = days > 0
    if known.any():
        since_1970 = (days[known] - _EPOCH_ORDINAL).astype("datetime64[D]")
        months = since_1970.astype("datetime64[M]").astype(np.int64)
        uniques, inverse = np.unique(months, return_inverse=True)
        table = np.array(
            [date(1970 + m // 12, m % 12 + 1, 1).strftime("%b %Y") for m in uniques.tolist()],
            dtype=object,
        )
        out[known] = table[inverse.reshape(-1)]
    return out


def concat(*parts: str | Texts) -> Texts:
    """Element-wise concatenation of texts and equal-length text arrays, in one pass.

    One join per row instead of one intermediate array per `+`: about twice as fast on
    large batches, with the same result (every array element must be a str).
    """
    arrays = [p for p in parts if isinstance(p, np.ndarray)]
    if not arrays:
        raise ValueError("concat needs at least one array")
    count = len(arrays[0])
    columns = [
        p.tolist() if isinstance(p, np.ndarray) else itertools.repeat(p, count) for p in parts
    ]
    out: Texts = np.empty(count, dtype=object)
    out[:] = list(map("".join, zip(*columns, strict=False)))
    return out


def group_rank(who: np.ndarray[Any, Any]) -> np.ndarray[Any, np.dtype[np.int64]]:
    """Position of each row within its run of equal `who` values (0 for the first)."""
    if not len(who):
        return np.zeros(0, dtype=np.int64)
    first = np.ones(len(who), dtype=bool)
    first[1:] = who[1:] != who[:-1]
    positions = np.arange(len(who), dtype=np.int64)
    rank: np.ndarray[Any, np.dtype[np.int64]] = positions - np.maximum.accumulate(
        np.where(first, positions, 0)
    )
    return rank


def _where(condition: np.ndarray[Any, Any], yes: Any, no: Any) -> Texts:
    chosen: Texts = np.where(condition, yes, no).astype(object)
    return chosen


def _joined_per_applicant(
    who: np.ndarray[Any, Any], labels: Texts, count: int, limit: int, separator: str = "; "
) -> Texts:
    """Join up to `limit` labels per applicant (rows already sorted by applicant)."""
    out = np.full(count, "", dtype=object)
    if not len(who):
        return out
    rank = group_rank(who)
    for k in range(limit):
        chosen = rank == k
        if not chosen.any():
            break
        targets = who[chosen]
        if k == 0:
            out[targets] = labels[chosen]
        else:
            out[targets] = out[targets] + separator + labels[chosen]
    return out


def job_summaries(
    jobs: pd.DataFrame,
    requirement: str,
    classes: list[str],
    count: int,
    as_of_day: int,
    limit: int = 3,
    applicants: np.ndarray[Any, np.dtype[np.bool_]] | None = None,
    doubts: bool = False,
) -> Texts:
    """Per applicant (of those marked in `applicants`, default all), up to `limit` jobs:
    'Title, Employer, Jun 2024 – present, full time'; with `doubts`, an uncertain job's
    doubt follows in brackets."""
    wanted = (jobs["requirement"] == requirement).to_numpy(dtype=bool) & np.isin(
        jobs["classification"].to_numpy(dtype=object), classes
    )
    if applicants is not None:
        wanted &= applicants[jobs["applicant_pos"].to_numpy(dtype=np.int64)]
    where = np.flatnonzero(wanted)
    if not len(where):
        return np.full(count, "", dtype=object)
    who = jobs["applicant_pos"].to_numpy(dtype=np.int64)[where]
    credit = jobs["credit"].to_numpy()[where]
    # each applicant's jobs by credit, most first (ties in entry order); only the first
    # `limit` are shown, so only theirs are written out
    order = np.lexsort((-credit, who))
    where, who = where[order], who[order]
    shown = group_rank(who) < limit
    where, who = where[shown], who[shown]

    def column(name: str, dtype: Any = object) -> np.ndarray[Any, Any]:
        return jobs[name].to_numpy(dtype=dtype)[where]

    # labels written once per distinct (title, employer): they repeat across applicants
    title_codes, titles = distinct(column("title"))
    employer_codes, employers = distinct(column("employer"))
    pair, first = combined_codes(title_codes, employer_codes)
    title, employer = titles[title_codes[first]], employers[employer_codes[first]]
    label = _where(employer != "", concat(title, ", ", employer), title)
    label = _where(label == "", "(untitled job)", label)[pair]
    end_codes, end_texts = pd.factorize(column("end"), use_na_sentinel=False)
    open_ended = np.array([_open_end(text) for text in end_texts], dtype=bool)
    end_day = column("end_day", np.int64)
    current = open_ended[end_codes] | (end_day >= as_of_day)
    span = concat(
        _month_texts(column("start_day", np.int64)),
        " – ",
        _where(current, "present", _month_texts(end_day)),
    )
    hours = column("hours_value", float)
    percent = column("percent_value", float)
    full = (hours >= 40) & (percent >= 100)
    time = _where(full, "full time", concat(years_texts(hours), " h/week"))
    part = percent < 100
    if part.any():
        time[part] = concat(time[part], " at ", years_texts(percent[part]), "%")
    invalid = column("classification") == INVALID
    detail = _where(invalid, "", concat(span, ", ", time))
    if invalid.any():
        # name the field and the value, so the recruiter can check the application
        field = column("problem_column")[invalid]
        problem = column("problem")[invalid]
        value = np.full(len(field), "", dtype=object)
        for name in pd.unique(field):
            chosen = field == name
            value[chosen] = column(str(name))[invalid][chosen]
        detail[invalid] = _where(
            value != "",
            concat(field, " '", value, "': ", problem),
            concat(field, ": ", problem),
        )
    if doubts:
        uncertain = column("classification") == UNCERTAIN
        if uncertain.any():
            detail[uncertain] = concat(detail[uncertain], " (", column("matched")[uncertain], ")")
    return _joined_per_applicant(who, concat(label, ", ", detail), count, limit)


def job_verdicts(
    jobs: pd.DataFrame,
    requirement: str,
    classes: list[str],
    applicants: np.ndarray[Any, np.dtype[np.bool_]],
    limit: int = 3,
) -> Texts:
    """Per applicant (of those marked in `applicants`), up to `limit` jobs of the given
    classifications and why: "Store Manager, Target: industry 'Retail' matched ..."."""
    count = len(applicants)
    wanted = (jobs["requirement"] == requirement).to_numpy(dtype=bool) & np.isin(
        jobs["classification"].to_numpy(dtype=object), classes
    )
    where = np.flatnonzero(wanted)
    who = jobs["applicant_pos"].to_numpy(dtype=np.int64)[where]
    keep = applicants[who]
    where, who = where[keep], who[keep]
    if not len(where):
        return np.full(count, "", dtype=object)
    order = np.argsort(who, kind="stable")
    where, who = where[order], who[order]
    shown = group_rank(who) < limit
    where, who = where[shown], who[shown]
    # written once per distinct (title, employer, why): job texts repeat across applicants
    columns = [
        jobs[name].to_numpy(dtype=object)[where] for name in ("title", "employer", "matched")
    ]
    combination, first = combined_codes(*(distinct(column)[0] for column in columns))
    title, employer, why = (column[first] for column in columns)
    label = _where(employer != "", concat(title, ", ", employer), title)
    label = _where(label == "", "(untitled job)", label)
    text = concat(label, ": ", why)[combination]
    return _joined_per_applicant(who, text, count, limit)


def _open_end(text: Any) -> bool:
    """An end text that means the job goes on (blank, 'present', 'current')."""
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return True
    return str(text).strip().lower() in ("", "present", "current")


def experience_reasons(
    req: ExperienceRequirement,
    status: np.ndarray[Any, Any],
    facts: pd.DataFrame,
    jobs: pd.DataFrame,
    full_time_hours: int,
    as_of_day: int,
) -> Texts:
    """One sentence per applicant for an experience criterion."""
    count = len(facts)
    # certain years are shown rounded down, as in the results' qualifying_years
    certain = (
        np.floor(
            np.round(
                credit_years(facts[F.experience_certain(req.id)].to_numpy(), full_time_hours) * 100,
                6,
            )
        )
        / 100
    )
    possible = credit_years(facts[F.experience_possible(req.id)].to_numpy(), full_time_hours)
    required = float(req.years)
    certain_credit = facts[F.experience_certain(req.id)].to_numpy(dtype=np.int64)
    year = F.year_credit(full_time_hours)
    needed = F.credit_for_years(req.years_fraction, full_time_hours)
    counted = job_summaries(jobs, req.id, [QUALIFYING], count, as_of_day)
    # only a review sentence names the jobs in doubt
    doubtful = job_summaries(
        jobs,
        req.id,
        [UNCERTAIN, INVALID],
        count,
        as_of_day,
        applicants=status == Status.review.value,
        doubts=True,
    )
    rejected = job_verdicts(jobs, req.id, [NOT_QUALIFYING], status == Status.not_met.value)
    window = f" within the last {req.within_years} years" if req.within_years else ""
    of_required = f" of {years_text(required)} required years{window}"
    jobs_text = np.full(count, " (no qualifying job)", dtype=object)
    listed = counted != ""
    if listed.any():
        jobs_text[listed] = concat(" (", counted[listed], ")")
    head = f"{req.id}: "
    out = np.empty(count, dtype=object)
    for value in pd.unique(status):
        rows = status == value
        if value == Status.met.value:
            out[rows] = concat(
                head, years_texts(certain[rows]), of_required, jobs_text[rows], "; met"
            )
        elif value == Status.review.value:
            upto = _where(
                np.isnan(possible[rows]),
                "an unknown amount",
                concat(years_texts(possible[rows]), " years"),
            )
            out[rows] = concat(
                head, years_texts(certain[rows]), of_required, jobs_text[rows],
                "; up to ", upto, " if these count: ", doubtful[rows],
            )  # fmt: skip
        else:
            # floor what the applicant has and round the shortfall up, so one day short
            # never reads as "3 of 3 required years; short by 0 years"
            credit = certain_credit[rows]
            has = (credit * 100 // year).astype(np.float64) / 100
            short = (-(-np.maximum(needed - credit, 0) * 100 // year)).astype(np.float64) / 100
            out[rows] = concat(
                head, years_texts(has), of_required, jobs_text[rows],
                "; short by ", years_texts(short), " years",
            )  # fmt: skip
            named = rows & (rejected != "")
            out[named] = concat(out[named], " — did not count: ", rejected[named])
    return out


def education_reasons(
    req: EducationRequirement,
    pattern: Pattern,
    spec: JobSpec,
    status: np.ndarray[Any, Any],
    facts: pd.DataFrame,
    education: pd.DataFrame,
) -> Texts:
    """One sentence per applicant for an education criterion."""
    count = len(facts)
    best = np.full(count, "", dtype=object)
    doubt = np.full(count, "", dtype=object)
    where = np.flatnonzero((education["requirement"] == req.id).to_numpy(dtype=bool))
    if len(where):
        # each applicant's entries best first (ties in entry order)
        who = education["applicant_pos"].to_numpy(dtype=np.int64)[where]
        certain = education["level_certain_rank"].to_numpy()[where]
        possible = education["level_possible_rank"].to_numpy()[where]
        order = np.lexsort((-possible, -certain, who))
        where, who = where[order], who[order]

        def column(name: str, dtype: Any = object) -> np.ndarray[Any, Any]:
            return education[name].to_numpy(dtype=dtype)[where]

        recognised = column("recognised", bool)
        doubtful = (~column("counts_certain", bool) & column("counts_possible", bool)) | ~recognised
        # only the best entry and the first three doubtful ones are ever written out
        first = group_rank(who) == 0
        doubt_shown = np.zeros(len(who), dtype=bool)
        doubt_shown[doubtful] = group_rank(who[doubtful]) < 3
        written = first | doubt_shown
        degree = column("degree")[written]
        major = column("major")[written]
        label = _where(degree != "", degree, "degree not given")
        with_major = major != ""
        if with_major.any():
            label[with_major] = concat(label[with_major], " in ", major[with_major])
        note = _where(
            column("accredited_excluded", bool)[written],
            "not accredited",
            column("field_note")[written],
        )
        text = np.empty(len(who), dtype=object)
        text[written] = _where(note != "", concat(label, " (", note, ")"), label)
        best = _joined_per_applicant(who[first], text[first], count, 1)
        unrecognised = written & ~recognised
        if unrecognised.any():
            text[unrecognised] = concat(
                "degree '", column("degree")[unrecognised], "' not recognised"
            )
        doubt = _joined_per_applicant(who[doubt_shown], text[doubt_shown], count, 3)
    wanted = _LEVEL_WORDS[req.min_level.value]
    fields = ", ".join(req.fields)
    in_fields = (
        (f" in {fields}" + (" or a related field" if req.allow_related else "")) if fields else ""
    )
    substitution = spec.substitution_for(pattern)
    first = pattern.experience[0] if pattern.experience else None
    education_years = float(
        substitution.education_years
        if substitution is not None and substitution.education_years is not None
        else LEVEL_YEARS[req.min_level]
    )
    credited = credit_years(
        facts[F.education_substitution_certain(req.id)].to_numpy(), spec.full_time_hours
    )
    experience = (
        _floor_hundredths(
            credit_years(facts[F.experience_certain(first.id)].to_numpy(), spec.full_time_hours)
        )
        if first is not None
        else np.zeros(count)
    )
    experience_possible = (
        credit_years(facts[F.experience_possible(first.id)].to_numpy(), spec.full_time_hours)
        if first is not None
        else np.zeros(count)
    )
    out = np.empty(count, dtype=object)
    head = f"{req.id}: "
    needs = f"needs {wanted}{in_fields}"
    can_substitute = (
        substitution is not None and substitution.experience_for_education and first is not None
    )
    for value in pd.unique(status):
        rows = status == value
        has = _where(best[rows] != "", best[rows], "no education entry")
        if value == Status.met.value:
            out[rows] = concat(head, has, f" meets {wanted}{in_fields}")
            continue
        needed = years_texts(
            (float(first.years) if first is not None else 0.0) + education_years - credited[rows]
        )
        experience_text = years_texts(experience[rows])
        if value == Status.review.value:
            # uncertain education, or experience that would substitute if uncertain jobs count
            text = concat(
                head, needs, "; has ", has, "; substitution needs ", needed,
                " years of qualifying experience, has ", experience_text, ", up to ",
                years_texts(experience_possible[rows]), " if uncertain jobs count",
            )  # fmt: skip
            uncertain = doubt[rows] != ""
            if uncertain.any():
                text[uncertain] = concat(head, needs, "; uncertain: ", doubt[rows][uncertain])
            out[rows] = text
            continue
        if value == Status.substituted.value:
            out[rows] = concat(
                head, has, "; ", experience_text,
                " years of qualifying experience substitute for it (needs ", needed, ")",
            )  # fmt: skip
        elif can_substitute:
            out[rows] = concat(
                head, needs, "; has ", has, "; substitution needs ", needed,
                " years of qualifying experience, has ", experience_text,
            )  # fmt: skip
        else:
            out[rows] = concat(head, needs, "; has ", has)
    return out


def held_reasons(
    criterion_id: str,
    description: str,
    status: np.ndarray[Any, Any],
    codes: np.ndarray[Any, Any] | None,
    missing_column: str | None = None,
) -> Texts:
    """Sentences for a license or certificate criterion; `missing_column` names the
    applicant column that would report it when the file has none."""
    count = len(status)
    if codes is None:
        words = [""]
        reported = np.zeros(count, dtype=np.int64)
    else:
        unclear = (
            f"not reported (the applicant file has no {missing_column} column)"
            if missing_column
            else "not clearly reported"
        )
        words = ["reported", "not reported", unclear]
        reported = np.select([codes == F.HELD, codes == F.NOT_HELD], [0, 1], 2).astype(np.int64)
    head = f"{criterion_id}: "

    def sentence(value: Any, said: str) -> str:
        if value == Status.not_applicable.value:
            return head + "not required for this position"
        if value == Status.condition.value:
            return head + description + " required at appointment (" + said + " by the applicant)"
        if value == Status.met.value:
            return head + description + " " + said
        if value == Status.review.value:
            return head + description + " " + said + "; verify"
        return head + description + " required; " + said

    # a handful of (status, what was reported) pairs: each sentence is written once
    status_codes, values = pd.factorize(np.asarray(status, dtype=object), use_na_sentinel=False)
    table = np.array(
        [sentence(value, said) for value in values for said in words] or [""], dtype=object
    )
    sentences: Texts = table[status_codes * len(words) + reported]
    return sentences


def license_column(kind: str) -> str:
    """The applicant column that reports a license: a driver's license has its own, other
    licenses are listed among the certificates."""
    return "drivers_license" if "driver" in kind.lower() else "certificates"


def license_words(kind: str, state: str | None) -> str:
    """How a reason names a license: "valid California Class C driver's license ..."."""
    place = US_STATES.get((state or "").upper(), state or "")
    words = f"valid {place.title()} {kind}" if place else f"valid {kind}"
    if "driver" in kind.lower():
        words += " and satisfactory driving record"
    return words


def principal_reasons(
    spec: JobSpec,
    statuses: dict[str, np.ndarray[Any, Any]],
    reasons: dict[str, np.ndarray[Any, Any]],
    outcome: np.ndarray[Any, Any],
    pattern_order: np.ndarray[Any, Any],
    count: int,
) -> np.ndarray[Any, Any]:
    """At most four reasons: the deciding criteria of the chosen pattern, failures first.

    A rejection under several patterns says why each failed, closest first: every pattern
    gets one reason before the closest pattern gets more.
    """
    by_pattern: dict[str, list[str]] = {}
    for pattern in spec.patterns:
        ids: list[str] = []
        if pattern.education is not None:
            ids.append(pattern.education.id)
        ids += [e.id for e in pattern.experience]
        ids += [lic.id for lic in pattern.licenses] + [c.id for c in pattern.certificates]
        ids += [lic.id for lic in spec.licenses if lic.enforce_at == "screening"]
        ids += [c.id for c in spec.certificates if c.enforce_at == "screening"]
        by_pattern[pattern.id] = ids
    ranked = [
        Status.not_met.value,
        Status.review.value,
        Status.substituted.value,
        Status.met.value,
        Status.condition.value,
    ]
    pattern_ids = [p.id for p in spec.patterns]
    chosen_pattern = np.array(pattern_ids, dtype=object)[pattern_order[:, 0]] if count else []
    qualified = outcome == Outcome.qualified.value
    out = np.full(count, "", dtype=object)
    rank_codes = {
        criterion_id: _rank_codes(statuses[criterion_id], ranked)
        for criterion_id in {c for ids in by_pattern.values() for c in ids}
    }
    for pattern_id, ids in by_pattern.items():
        mine = np.flatnonzero(chosen_pattern == pattern_id)
        if not len(mine):
            continue
        # which criterion fills each of the four slots, by status rank then criterion order
        slots = np.full((len(mine), 4), -1, dtype=np.int64)
        added = np.zeros(len(mine), dtype=np.int64)
        for position, status in enumerate(ranked):
            for number, criterion_id in enumerate(ids):
                shown = rank_codes[criterion_id][mine] == position
                if status not in (Status.not_met.value, Status.review.value):
                    shown &= qualified[mine]
                take = np.flatnonzero(shown & (added < 4))
                slots[take, added[take]] = number
                added[take] += 1
        text = np.full(len(mine), "", dtype=object)
        for slot in range(4):
            for number, criterion_id in enumerate(ids):
                filled = np.flatnonzero(slots[:, slot] == number)
                if not len(filled):
                    continue
                reason = reasons[criterion_id][mine[filled]]
                text[filled] = reason if slot == 0 else concat(text[filled], " | ", reason)
        out[mine] = text
    # needs_review although every pattern fails: sent to HR by a discretionary equivalency
    discretion = [
        s.clause or "any equivalent combination acceptable to the agency"
        for s in [spec.substitution, *(p.substitution for p in spec.patterns)]
        if s is not None and s.discretionary
    ]
    if discretion:
        every_pattern_fails = np.ones(count, dtype=bool)
        for pattern_id in pattern_ids:
            every_pattern_fails &= statuses[f"pattern.{pattern_id}"] == PATTERN_FAILS
        clause = discretion[0].strip().rstrip(".")
        cause = (
            f"discretionary equivalency: {clause}; HR decides whether this education and "
            "experience are equivalent"
        )
        for i in np.flatnonzero(every_pattern_fails & (outcome == Outcome.needs_review.value)):
            failing = [r for r in str(out[i]).split(" | ") if r][:3]
            out[i] = " | ".join([cause, *failing])
    if len(spec.patterns) > 1:
        # a rejection under several patterns says why each failed, closest first
        every_status = [*ranked, Status.not_applicable.value]
        rank = {status: n for n, status in enumerate(every_status)}
        rejected = np.flatnonzero(outcome == Outcome.not_qualified.value)
        criteria = sorted({c for ids in by_pattern.values() for c in ids})
        # the choice depends only on the pattern order and the criteria's statuses: make it
        # once per distinct combination, then write each applicant's sentence from it
        combination, first = combined_codes(
            *(pattern_order[rejected, j] for j in range(len(pattern_ids))),
            *(_rank_codes(statuses[c], every_status)[rejected] for c in criteria),
        )
        closest = np.empty(len(first), dtype=object)
        picked = np.full((len(first), 3), -1, dtype=np.int64)
        for index, row in enumerate(rejected[first]):
            ordered_patterns = [pattern_ids[j] for j in pattern_order[row]]
            closest[index] = f"closest pattern: {ordered_patterns[0]}"
            failing = _rejection_reasons(ordered_patterns, by_pattern, statuses, rank, int(row))
            picked[index, : len(failing)] = [criteria.index(c) for c in failing]
        text = closest[combination]
        slots = picked[combination]
        for slot in range(3):
            for number, criterion_id in enumerate(criteria):
                where = np.flatnonzero(slots[:, slot] == number)
                if len(where):
                    reason = reasons[criterion_id][rejected[where]]
                    text[where] = concat(text[where], " | ", reason)
        out[rejected] = text
    return out


def _rank_codes(status: np.ndarray[Any, Any], ranked: list[str]) -> np.ndarray[Any, Any]:
    """Each status's position in `ranked` (len(ranked) for any other), as small integers."""
    codes, values = pd.factorize(np.asarray(status, dtype=object), use_na_sentinel=False)
    position = {value: n for n, value in enumerate(ranked)}
    table = np.array([position.get(value, len(ranked)) for value in values], dtype=np.int64)
    ranks: np.ndarray[Any, Any] = table[codes] if len(values) else np.zeros(0, dtype=np.int64)
    return ranks


def _rejection_reasons(
    ordered_patterns: list[str],
    by_pattern: dict[str, list[str]],
    statuses: dict[str, np.ndarray[Any, Any]],
    rank: dict[str, int],
    i: int,
    slots: int = 3,
) -> list[str]:
    """Failing criteria of every pattern, closest pattern first, one each before any second."""
    failing = (Status.not_met.value, Status.review.value)
    per_pattern: list[list[str]] = []
    seen: set[str] = set()
    for pattern_id in ordered_patterns:
        ids = sorted(by_pattern[pattern_id], key=lambda c: rank[statuses[c][i]])
        fails = [c for c in ids if statuses[c][i] in failing and c not in seen]
        seen.update(fails)
        per_pattern.append(fails)
    taken = [fails[:1] for fails in per_pattern]
    budget = slots - sum(len(t) for t in taken)
    for n, fails in enumerate(per_pattern):  # closest first gets the spare slots
        extra = fails[1 : 1 + max(budget, 0)]
        taken[n] += extra
        budget -= len(extra)
    return [c for t in taken for c in t][:slots]
