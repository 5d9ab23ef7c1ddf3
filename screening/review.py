"""Human review: what decides each needs_review applicant, settled judgements, overrides.

- `review_items` names, for every applicant sent to review, the uncertain evidence that
  decides them (an unrecognised industry, major or degree; an invalid entry; a title word;
  a job title that is a near match, an uncertain occupation or not recognised),
  and `review_groups` groups applicants by it, so one judgement covers many applicants.
- `settle` turns a recurring judgement ("treat industry 'Solar energy' as related") into a
  new spec revision: the spec refers to a new, content-addressed vocabulary file holding the
  judgement, so the spec's hash names exactly the vocabulary it was screened with.
- `OverrideLog` keeps reviewers' decisions (with a required justification) when no audit
  store is in use; `final_outcomes` joins overrides onto the engine's results.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml

from screening.audit.overrides import (
    Refusal,
    apply_overrides,
    final_outcome,
    latest_overrides,
    override_refusal,
)
from screening.errors import UserError
from screening.evidence import INVALID, UNCERTAIN
from screening.jobclass import NEAR_MATCH, OCCUPATION_DOUBT, UNRECOGNISED_TITLE
from screening.results import Outcome, Status
from screening.run.stages import ScreeningResult
from screening.spec import JobSpec, dump_spec
from screening.vocabulary import FieldFamily, IndustryFamily, Vocabulary

ITEM_COLUMNS = ["applicant_id", "kind", "value", "requirement", "detail"]
GROUP_COLUMNS = ["kind", "value", "applicants", "settleable"]

#: Kinds of uncertain evidence a settled judgement can decide once for everybody.
SETTLEABLE_KINDS: frozenset[str] = frozenset({"industry", "major"})

_UNRECOGNISED_INDUSTRY = re.compile(r"(industry|employer) '(.*?)' is not a recognised industry")
#: an industry recognised but neither listed nor related, or unrelated but tied to the
#: requirement's industries by the job's own words
_DOUBTFUL_INDUSTRY = re.compile(
    r"(industry|employer) '(.*?)' (?:is .*, not a listed or accepted related industry"
    r"|matched unrelated industry .*, but the job's own words)"
)
#: doubts about the job's title, each a kind of its own so an analyst settles it once
_TITLE_DOUBTS = {
    NEAR_MATCH: "near match",
    OCCUPATION_DOUBT: "occupation",
    UNRECOGNISED_TITLE: "unrecognised title",
}
_TITLE_WORD = re.compile(r"title word '(.*?)' may not be professional experience")


# ------------------------------------------------------------------ what decides a review


def _item(applicant: str, kind: str, value: str, requirement: str, detail: str) -> dict[str, Any]:
    return {
        "applicant_id": applicant,
        "kind": kind,
        "value": value,
        "requirement": requirement,
        "detail": detail,
    }


def _job_items(result: ScreeningResult, review_pos: np.ndarray[Any, Any]) -> list[dict[str, Any]]:
    jobs = result.evidence.jobs
    if not len(jobs):
        return []
    chosen = jobs[
        np.isin(jobs["applicant_pos"].to_numpy(), review_pos)
        & jobs["classification"].isin([UNCERTAIN, INVALID]).to_numpy()
    ]
    # An uncertain job that adds no possible credit (e.g. outside a recency window) decides
    # nothing; an invalid one adds an unbounded amount, so it always may.
    chosen = chosen[(chosen["classification"] == INVALID) | (chosen["credit"] > 0)]
    ids = result.results["applicant_id"].to_numpy()
    items: list[dict[str, Any]] = []
    for job in chosen.to_dict("records"):
        applicant = str(ids[int(job["applicant_pos"])])
        requirement = str(job["requirement"])
        entry = f"job {job['entry']}: {job['title'] or '(no title)'}"
        if job["classification"] == INVALID:
            column = job["problem_column"] or "entry"
            detail = f"{entry}; {column} is invalid"
            items.append(
                _item(applicant, "invalid entry", str(job["problem"]), requirement, detail)
            )
            continue
        matched = str(job["matched"])
        found = []
        for prefix, kind in _TITLE_DOUBTS.items():
            if matched.startswith(f"{prefix}: "):
                doubt = matched[len(prefix) + 2 :]
                found.append((kind, str(job["title"]) or "(no title)", f"{entry}; {doubt}"))
        if m := _UNRECOGNISED_INDUSTRY.search(matched) or _DOUBTFUL_INDUSTRY.search(matched):
            found.append(("industry", m.group(2), f"{entry}; {m.group(0)}"))
        elif "industry is blank" in matched:
            found.append(("blank industry", "(blank)", f"{entry}; industry and employer blank"))
        if (m := _TITLE_WORD.search(matched)) is not None:
            found.append(("title word", m.group(1), f"{entry}; {m.group(0)}"))
        if not found:
            found.append(("uncertain job", str(job["title"]), f"{entry}; {matched}"))
        items.extend(_item(applicant, kind, value, requirement, d) for kind, value, d in found)
    return items


def _education_items(
    result: ScreeningResult, review_pos: np.ndarray[Any, Any]
) -> list[dict[str, Any]]:
    education = result.evidence.education
    if not len(education):
        return []
    min_rank = {
        p.education.id: p.education.min_level.rank
        for p in result.spec.patterns
        if p.education is not None
    }
    chosen = education[np.isin(education["applicant_pos"].to_numpy(), review_pos)]
    ids = result.results["applicant_id"].to_numpy()
    items: list[dict[str, Any]] = []
    for entry in chosen.to_dict("records"):
        requirement = str(entry["requirement"])
        possible_rank = int(entry["level_possible_rank"])
        level_matters = possible_rank > int(entry["level_certain_rank"]) and (
            possible_rank >= min_rank.get(requirement, 0)
        )
        years_matter = entry["credit_possible"] > entry["credit_certain"]
        if not (level_matters or years_matter):
            continue
        applicant = str(ids[int(entry["applicant_pos"])])
        label = f"education {entry['entry']}: {entry['degree'] or '(no degree)'}"
        if not entry["recognised"] and entry["degree"]:
            kind, value, why = "degree", str(entry["degree"]), "degree text is not recognised"
        elif entry["field_status"] == "uncertain" and entry["major"]:
            kind, value, why = "major", str(entry["major"]), str(entry["field_note"])
        elif entry["field_status"] == "uncertain":
            kind, value, why = "blank major", "(blank)", str(entry["field_note"])
        else:
            kind, value = "education entry", label
            why = "may count (units, completion or accreditation unclear)"
        items.append(_item(applicant, kind, value, requirement, f"{label}; {why}"))
    return items


def review_items(result: ScreeningResult) -> pd.DataFrame:
    """One row per (needs_review applicant, uncertain evidence that may decide them).

    Columns: applicant_id, kind (industry, major, degree, invalid entry, title word, ...),
    value (the text in question), requirement (criterion id), detail (which entry and why).
    An applicant with no uncertain entry (e.g. a license held in another state, or a
    discretionary equivalency) gets one row naming the criterion in review.
    """
    outcome = result.results["outcome"].to_numpy()
    review_pos = np.flatnonzero(outcome == Outcome.needs_review.value)
    items = _job_items(result, review_pos) + _education_items(result, review_pos)
    covered = {i["applicant_id"] for i in items}
    ids = result.results["applicant_id"].to_numpy()
    reasons = result.criterion_reasons
    for pos in review_pos:
        applicant = str(ids[pos])
        if applicant in covered:
            continue
        in_review = [
            c for c in result.spec.criterion_ids() if result.statuses[c][pos] == Status.review.value
        ]
        if in_review:
            for criterion in in_review:
                why = str(reasons[criterion][pos]) if criterion in reasons else ""
                items.append(_item(applicant, "criterion in review", criterion, criterion, why))
        else:
            why = str(result.results["reasons"].iloc[pos])
            items.append(_item(applicant, "equivalency", "discretionary equivalency", "", why))
    frame = pd.DataFrame(items, columns=ITEM_COLUMNS)
    return frame.drop_duplicates(ignore_index=True)


def review_groups(items: pd.DataFrame) -> pd.DataFrame:
    """Needs-review applicants grouped by the evidence that decides them, largest first.

    The value is compared case-insensitively ("Solar energy" and "solar energy" are one
    group). `settleable` says whether a judgement on it can be settled in the spec.
    """
    if not len(items):
        return pd.DataFrame(columns=GROUP_COLUMNS)
    keyed = items.assign(key=items["value"].str.strip().str.lower())
    grouped = (
        keyed.groupby(["kind", "key"], sort=False)
        .agg(value=("value", "first"), applicants=("applicant_id", "nunique"))
        .reset_index()
    )
    grouped["settleable"] = grouped["kind"].isin(SETTLEABLE_KINDS) & (grouped["key"] != "(blank)")
    grouped = grouped.sort_values(["applicants", "kind", "key"], ascending=[False, True, True])
    return grouped[GROUP_COLUMNS].reset_index(drop=True)


def applicants_in_group(items: pd.DataFrame, kind: str, value: str) -> list[str]:
    """Applicant ids whose review depends on one piece of evidence (case-insensitive)."""
    chosen = items[
        (items["kind"] == kind) & (items["value"].str.strip().str.lower() == value.strip().lower())
    ]
    return list(dict.fromkeys(chosen["applicant_id"]))


# ------------------------------------------------------------------ settled judgements


@dataclass(frozen=True)
class Judgement:
    """A recurring judgement settled once: an industry or major is related or not."""

    kind: Literal["industry", "major"]
    value: str
    related: bool

    @property
    def statement(self) -> str:
        """The judgement in words, as recorded with the new spec revision."""
        verdict = "related" if self.related else "unrelated"
        return f"treat {self.kind} '{self.value}' as {verdict}"


class SettleError(UserError, ValueError):
    """A judgement that cannot be settled in this spec; the message says why."""


@dataclass
class SettledSpec:
    """A new spec revision that carries settled judgements in its own vocabulary file."""

    spec: JobSpec
    vocabulary: Vocabulary
    vocabulary_file: str
    vocabulary_yaml: str
    judgements: list[Judgement] = field(default_factory=list)


def _settled_revision(revision: str) -> str:
    match = re.fullmatch(r"(.*)\+settled\.(\d+)", revision)
    if match:
        return f"{match[1]}+settled.{int(match[2]) + 1}"
    return f"{revision or 'draft'}+settled.1"


def _add(words: list[str], word: str) -> list[str]:
    return words if word.lower() in {w.lower() for w in words} else [*words, word]


def _settle_industry(spec: JobSpec, vocab: Vocabulary, judgement: Judgement) -> Vocabulary:
    families = dict(vocab.industries)
    touched = False
    word = judgement.value.strip().lower()
    for pattern in spec.patterns:
        for req in pattern.experience:
            names = [*req.industries, *(n for ns in req.area_industries.values() for n in ns)]
            for name in names:
                family = families.get(name, IndustryFamily())
                if judgement.related and req.allow_related_industries:
                    family = family.model_copy(update={"related": _add(family.related, word)})
                elif judgement.related:
                    family = family.model_copy(update={"keywords": _add(family.keywords, word)})
                else:
                    family = family.model_copy(update={"unrelated": _add(family.unrelated, word)})
                families[name] = family
                touched = True
    if not touched:
        raise SettleError(
            f"the spec's experience requirements name no industry, so industry "
            f"'{judgement.value}' does not affect any decision"
        )
    return vocab.model_copy(update={"industries": families})


def _settle_major(spec: JobSpec, vocab: Vocabulary, judgement: Judgement) -> Vocabulary:
    fields = dict(vocab.fields)
    word = judgement.value.strip().lower()
    requirements = [
        p.education for p in spec.patterns if p.education is not None and p.education.fields
    ]
    if not requirements:
        raise SettleError(
            f"the spec's education requirements name no field, so major '{judgement.value}' "
            "does not affect any decision"
        )
    for req in requirements:
        for name in req.fields:
            family = fields.get(name, FieldFamily())
            if judgement.related:
                family = family.model_copy(update={"related": _add(family.related, word)})
            else:
                family = family.model_copy(update={"unrelated": _add(family.unrelated, word)})
            fields[name] = family
    return vocab.model_copy(update={"fields": fields})


def vocabulary_yaml(vocab: Vocabulary, judgements: Iterable[Judgement] = ()) -> str:
    """A vocabulary as YAML text, headed by the judgements settled in it."""
    header = "".join(f"# settled: {j.statement}\n" for j in judgements)
    body = yaml.safe_dump(
        vocab.model_dump(mode="json"), sort_keys=False, allow_unicode=True, width=100
    )
    return header + body


def settle(
    spec: JobSpec,
    vocabulary: Vocabulary,
    judgement: Judgement,
    *,
    earlier: Iterable[Judgement] = (),
) -> SettledSpec:
    """A new spec revision whose vocabulary settles the judgement for every applicant.

    The new vocabulary file is named by the hash of its content, and the spec refers to it,
    so the spec's SHA-256 (recorded with every run) pins the judgement.
    """
    if not judgement.value.strip() or judgement.value.strip() == "(blank)":
        raise SettleError("a blank value cannot be settled; review those applicants one by one")
    if judgement.kind == "industry":
        vocab = _settle_industry(spec, vocabulary, judgement)
    elif judgement.kind == "major":
        vocab = _settle_major(spec, vocabulary, judgement)
    else:
        raise SettleError(f"only industries and majors can be settled, not {judgement.kind!r}")
    judgements = [*earlier, judgement]
    text = vocabulary_yaml(vocab, judgements)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    name = f"vocabulary-{spec.id}-{digest}.yaml"
    new_spec = spec.model_copy(
        update={"revision": _settled_revision(spec.revision), "vocabulary": name}
    )
    return SettledSpec(new_spec, vocab, name, text, judgements)


def _bare(frame: pd.DataFrame, columns: list[str] | None = None) -> pd.DataFrame:
    """A plain copy of some columns, without `attrs` (which merges compare)."""
    chosen = columns if columns is not None else list(frame.columns)
    return pd.DataFrame({c: frame[c].to_numpy() for c in chosen})


#: How many revisions `save_settled` moves past before giving up (others saving at once).
SAVE_ATTEMPTS = 1000


def _settled_file(folder: Path, spec: JobSpec) -> Path:
    revision = re.sub(r"[^\w.+-]+", "_", spec.revision)
    return folder / f"{spec.id}-{revision}.yaml"


def _create_new(path: Path, text: str) -> None:
    """Write a file that must not exist yet, whole or not at all (FileExistsError if it does).

    The text goes to a temporary file first and is then hard-linked to its name: the link
    fails when the name is taken, so two writers can never replace each other's file.
    """
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".saving-", suffix=".yaml")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        try:
            os.link(temporary, path)
        except FileExistsError:
            raise
        except OSError:  # a file system without hard links: exclusive creation instead
            with path.open("x", encoding="utf-8") as out:
                out.write(text)
    finally:
        os.unlink(temporary)


def save_settled(settled: SettledSpec, folder: str | Path) -> tuple[SettledSpec, Path]:
    """Write the settled spec and its vocabulary side by side, never replacing a file.

    Returns the settled spec as saved and its path. A revision already saved in the folder
    (another session settling from the same base) is never reused: the spec takes the next
    free revision, claimed by creating its file exclusively. The vocabulary file is named by
    its content, so an existing one is kept when it holds the same text. The spec names its
    vocabulary file relative to itself, so `screening screen --spec` on the written file
    reproduces the decisions.
    """
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    vocabulary = target / settled.vocabulary_file
    try:
        _create_new(vocabulary, settled.vocabulary_yaml)
    except FileExistsError:
        if vocabulary.read_text(encoding="utf-8") != settled.vocabulary_yaml:
            raise SettleError(
                f"{vocabulary} exists with other content (was it edited?); it is never "
                "replaced: move it away or settle into another folder"
            ) from None
    spec = settled.spec
    for _ in range(SAVE_ATTEMPTS):
        path = _settled_file(target, spec)
        try:
            _create_new(path, dump_spec(spec))
        except FileExistsError:
            spec = spec.model_copy(update={"revision": _settled_revision(spec.revision)})
            continue
        return replace(settled, spec=spec), path
    raise SettleError(
        f"no free settled revision after {SAVE_ATTEMPTS} tries in {target}; clean the folder up"
    )


def changed_outcomes(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Applicants whose outcome differs between two screenings: id, before, after."""
    joined = _bare(before, ["applicant_id", "outcome"]).merge(
        _bare(after, ["applicant_id", "outcome"]), on="applicant_id", suffixes=("_before", "_after")
    )
    changed = joined[joined["outcome_before"] != joined["outcome_after"]]
    return changed.rename(
        columns={"outcome_before": "before", "outcome_after": "after"}
    ).reset_index(drop=True)


# ------------------------------------------------------------------ overrides


class ReviewError(UserError, ValueError):
    """An override that cannot be recorded; the message says what is missing."""


@dataclass(frozen=True)
class Override:
    """A reviewer's decision replacing an applicant's current outcome."""

    applicant_id: str
    from_outcome: str
    to_outcome: str
    reviewer: str
    justification: str
    created_at: str


def check_override(current: str, to_outcome: str, reviewer: str, justification: str) -> None:
    """Raise ReviewError unless the override names an outcome, a reviewer and a reason.

    The rule is the audit trail's (`override_refusal`); only its wording, for a person in
    the app, is said here.
    """
    refusal = override_refusal(to_outcome, reviewer, justification, current)
    if refusal is None:
        return
    messages = {
        Refusal.no_outcome: "choose the reviewer's decision: no outcome is preselected, so "
        "none is recorded by accident",
        Refusal.no_reviewer: "name the reviewer: an override is recorded with who made it",
        Refusal.no_justification: "write a justification: an override is only recorded with "
        "the reason for it",
        Refusal.not_an_outcome: f"{to_outcome!r} is not an outcome",
        Refusal.unchanged: f"the applicant is already {to_outcome}; nothing to override",
    }
    raise ReviewError(messages[refusal])


class OverrideLog:
    """Overrides of one screening run, kept in memory (append-only)."""

    def __init__(self, engine_outcomes: Mapping[str, str]) -> None:
        self._engine = dict(engine_outcomes)
        self._overrides: list[Override] = []

    def current(self, applicant_id: str) -> str:
        """The applicant's outcome after the overrides so far."""
        if applicant_id not in self._engine:
            raise ReviewError(f"no screened applicant with id {applicant_id!r}")
        to_outcomes = [o.to_outcome for o in self._overrides if o.applicant_id == applicant_id]
        return final_outcome(self._engine[applicant_id], to_outcomes)

    def record(
        self, applicant_id: str, *, to_outcome: str, reviewer: str, justification: str
    ) -> Override:
        """Record an override; ReviewError when reviewer or justification is missing."""
        current = self.current(applicant_id)
        check_override(current, to_outcome, reviewer, justification)
        override = Override(
            applicant_id=applicant_id,
            from_outcome=current,
            to_outcome=to_outcome,
            reviewer=reviewer.strip(),
            justification=justification.strip(),
            created_at=datetime.now(UTC).replace(microsecond=0).isoformat(),
        )
        self._overrides.append(override)
        return override

    def overrides(self) -> list[Override]:
        """Every override, oldest first."""
        return list(self._overrides)


def final_outcomes(results: pd.DataFrame, overrides: Iterable[Override]) -> pd.DataFrame:
    """The results with engine_outcome, final_outcome, reviewer and review_justification.

    `outcome` stays the engine's; `final_outcome` is the latest override's, else the engine's.
    """
    latest = latest_overrides((o.applicant_id, o) for o in overrides)
    out = _bare(results)
    ids = out["applicant_id"].astype(str)
    to_outcomes = {i: o.to_outcome for i, o in latest.items()}
    out.insert(2, "final_outcome", apply_overrides(ids, out["outcome"], to_outcomes))
    out["reviewer"] = [latest[i].reviewer if i in latest else "" for i in ids]
    out["review_justification"] = [latest[i].justification if i in latest else "" for i in ids]
    return out
