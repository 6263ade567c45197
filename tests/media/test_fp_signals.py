"""One suite over every signal kind in the registry: compute, serialize, compare, examples."""

from __future__ import annotations

from pathlib import Path

import pytest

from reelrights.errors import BadInput
from reelrights.media.fingerprint import SIGNALS, AudioPrint, TextPrint, VideoPrint


def test_registry_names_every_kind() -> None:
    assert set(SIGNALS) == {"video_pdq", "audio_chromaprint", "text_minhash"}
    assert {s.print_type for s in SIGNALS.values()} == {VideoPrint, AudioPrint, TextPrint}


@pytest.mark.parametrize("name", sorted(SIGNALS))
def test_signal_contract(name: str, tmp_path: Path) -> None:
    signal = SIGNALS[name]
    ex = signal.examples(tmp_path)
    original, copy, other = (signal.compute(p) for p in (ex.original, ex.near_copy, ex.unrelated))
    assert isinstance(original, signal.print_type)
    blob = signal.to_bytes(original)
    assert isinstance(blob, bytes) and blob[:4] == b"RRFP"
    assert signal.from_bytes(blob) == original
    assert signal.distance(original, original) == 0.0
    assert signal.distance(copy, original) <= signal.match_threshold and signal.matches(copy, original)
    assert signal.distance(other, original) > signal.match_threshold and not signal.matches(other, original)
    for other_name, other_signal in SIGNALS.items():  # a blob of one kind is refused by the others
        if other_name != name:
            with pytest.raises(BadInput):
                other_signal.from_bytes(blob)
