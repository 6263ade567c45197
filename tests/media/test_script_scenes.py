"""Scripts whose scenes are reordered or partly paraphrased are found, with the copied scenes
named (query and reference lines); scripts of the same generator are not."""

from __future__ import annotations

from pathlib import Path

import pytest

from reelrights.evidence.scan_match import match_text
from reelrights.media.fingerprint.text import fingerprint_text_string
from reelrights.media.index import ScriptIndex
from reelrights.media.synth import make_script
from reelrights.media.synth_copy import paraphrase_scenes, reorder_scenes


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> dict:
    d = tmp_path_factory.mktemp("scenes")
    texts = {i: make_script(d / f"s{i}.fountain", title=f"T{i}", author="A", scenes=10, seed=300 + i).read_text()
             for i in range(8)}
    index = ScriptIndex.open(d / "idx")
    prints = {}
    for i in range(6):  # 6 registered, 2 kept back as negatives
        p = fingerprint_text_string(texts[i])
        prints[i] = (f"sha{i}", "text", p)
        index.add(str(i), p.minhash)
        for c, chunk in enumerate(p.chunks):
            index.add(f"{i}:{c}", chunk.minhash)
    return {"texts": texts, "index": index, "prints": prints, "dir": Path(d)}


def _scan(catalog: dict, text: str) -> list[dict]:
    prints = catalog["prints"]
    return match_text(None, catalog["index"], fingerprint_text_string(text),
                      loader=lambda seqs: {s: prints[s] for s in seqs if s in prints})


def _scene_of(text: str, line: int) -> str:
    lines = text.splitlines()
    i = line - 1
    while not lines[i].startswith(("INT.", "EXT.")):
        i -= 1
    return lines[i]


def test_reordered_excerpt_reports_each_copied_scene(catalog: dict) -> None:
    original = catalog["texts"][2]
    copy = reorder_scenes(original, seed=4, keep=4)
    found = _scan(catalog, copy)
    assert [m["sha256"] for m in found] == ["sha2"]
    scenes = [s for s in found[0]["scenes"] if s["query_first_line"] > 4]  # not the title block
    assert len(scenes) == 4
    for s in scenes:  # each copied scene points at the same scene of the work
        assert _scene_of(copy, s["query_first_line"]) == _scene_of(original, s["ref_first_line"])


def test_partly_paraphrased_and_reordered_script_is_found(catalog: dict) -> None:
    original = catalog["texts"][3]
    copy = paraphrase_scenes(reorder_scenes(original, seed=1), 0.5, seed=2)
    assert copy != original
    found = _scan(catalog, copy)
    assert [m["sha256"] for m in found] == ["sha3"]
    assert found[0]["similarity"] >= 0.5
    paraphrased = [s for s in found[0]["scenes"] if s["jaccard"] < 0.5]
    assert paraphrased, "some scenes were only found through their verbatim lines"
    for s in found[0]["scenes"]:
        if s["query_first_line"] > 4:
            assert _scene_of(copy, s["query_first_line"]) == _scene_of(original, s["ref_first_line"])


def test_scripts_of_the_same_generator_are_not_matched(catalog: dict) -> None:
    for i in (6, 7):
        for text in (catalog["texts"][i], paraphrase_scenes(reorder_scenes(catalog["texts"][i], seed=i), 0.5)):
            assert _scan(catalog, text) == []
