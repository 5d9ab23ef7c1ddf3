"""The compiler proposes O*NET occupations and NAICS industries for a draft's areas."""

from __future__ import annotations

from pathlib import Path

import pytest

from screening.cli import main
from screening.spec import load_spec
from screening.taxonomy import propose_spec_codes

REPO = Path(__file__).resolve().parent.parent
HAND_WRITTEN = REPO / "rules" / "alameda-7616-account-manager.yaml"

DRAFT = """\
Water Quality Inspector

MINIMUM QUALIFICATIONS
Bachelor's degree in chemistry or biology.
Three years of experience in water quality sampling in a public water utility.
"""


def test_settled_areas_get_no_proposal_and_unsettled_ones_do() -> None:
    spec = load_spec(HAND_WRITTEN)
    areas = [a for p in spec.patterns for r in p.experience for a in r.areas]
    assert areas
    # The hand-written spec settles its areas' occupations: nothing left to propose.
    assert propose_spec_codes(spec) == []
    unsettled = spec.model_copy(
        update={
            "patterns": [
                p.model_copy(
                    update={
                        "experience": [
                            r.model_copy(update={"area_occupations": {}}) for r in p.experience
                        ]
                    }
                )
                for p in spec.patterns
            ]
        }
    )
    assert propose_spec_codes(unsettled, settled_areas=areas) == []
    proposals = propose_spec_codes(unsettled)
    assert {item.area for item in proposals} <= set(areas)
    account = [item for item in proposals if item.area == "account management"]
    assert account, "an account-management area proposes occupations"
    assert "11-2022.00" in [code for code, _, _ in account[0].proposal.occupations]


def test_compile_lists_proposals_for_the_analyst(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = tmp_path / "inspector.txt"
    document.write_text(DRAFT, encoding="utf-8")
    assert main(["compile", str(document), "--out", str(tmp_path / "draft.yaml")]) == 0
    err = capsys.readouterr().err
    assert "proposed codes" in err
    assert "NAICS 22" in err, "a public water utility proposes a utilities code"
    draft = load_spec(tmp_path / "draft.yaml")
    # Proposals are printed, never written into the draft's rules.
    assert all(not r.area_occupations for p in draft.patterns for r in p.experience)
