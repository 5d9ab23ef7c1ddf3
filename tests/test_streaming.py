"""Screening chunk by chunk decides exactly as screening the batch at once."""

from __future__ import annotations

import pandas as pd

from screening.run.stages import screen_files, screen_stream
from tests.builders import ALAMEDA, AS_OF, ROOT

SAMPLE = ROOT / "data" / "account-manager-applicants.csv"


def test_chunks_give_the_whole_batch_results_in_order() -> None:
    whole = screen_files(SAMPLE, ALAMEDA, as_of=AS_OF)
    chunks = list(screen_stream(SAMPLE, ALAMEDA, as_of=AS_OF, chunk_rows=37))
    assert len(chunks) > 5
    streamed = pd.concat([c.results for c in chunks], ignore_index=True)
    pd.testing.assert_frame_equal(streamed, whole.results)
    issues = [i for c in chunks for i in c.issues]
    assert sorted(i.model_dump_json() for i in issues) == sorted(
        i.model_dump_json() for i in whole.issues
    )


def test_the_vectorised_reference_decides_as_durable_rules() -> None:
    durable = screen_files(SAMPLE, ALAMEDA, as_of=AS_OF)
    vectorised = screen_files(SAMPLE, ALAMEDA, as_of=AS_OF, engine="vectorised")
    pd.testing.assert_frame_equal(durable.results, vectorised.results)
