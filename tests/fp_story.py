"""Shared set-up for the fingerprint, scan and Ray tests: generated media and a rights story.

Media is generated once per test session (media/synth.py): two films, a recording, two scripts
and unrelated controls, plus the transformed copies a scan must still recognise.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from reelrights.core.ids import new_id
from reelrights.core.license_terms import training_agreement
from reelrights.core.statements import sign_statement
from reelrights.media import synth
from reelrights.registry.credits import credit_work
from reelrights.registry.parties import register_party
from reelrights.registry.works import register_work
from reelrights.rights import bundles, licensing

FILM = dict(seconds=10.0, fps=24, size=(480, 272), scenes=4)


def make_media(root: Path) -> dict[str, Path]:
    """The registered originals and the items a scan is given (transformed copies, controls)."""
    m: dict[str, Path] = {}
    ref, scan = root / "ref", root / "scan"
    m["film_a"] = synth.make_film(ref / "harbour.mp4", seed=11, **FILM)
    m["film_b"] = synth.make_film(ref / "ferry.mp4", seed=22, **FILM)
    m["song"] = synth.make_audio(ref / "theme.wav", seconds=20.0, seed=33)
    m["script_b"] = synth.make_script(ref / "ferry.fountain", title="Night Ferry",
                                      author="Mara Ellison", scenes=12, seed=44)
    m["script_c"] = synth.make_script(ref / "cold.fountain", title="Cold Open",
                                      author="Ike Adeyemi", scenes=12, seed=55)
    # What the developer's training set holds.
    a = m["film_a"]
    m["a_reencoded"] = synth.transcode_video(a, scan / "a_reencoded.mp4", bitrate=300_000)
    m["a_resized"] = synth.transcode_video(a, scan / "a_resized.mp4", size=(320, 180))
    m["a_cropped"] = synth.transcode_video(a, scan / "a_cropped.mp4", crop=0.1)
    m["a_trimmed"] = synth.transcode_video(a, scan / "a_trimmed.mp4", start=3.0, duration=4.0)
    m["b_everything"] = synth.transcode_video(m["film_b"], scan / "b_everything.mkv",
                                              bitrate=400_000, size=(384, 216), crop=0.08,
                                              start=2.0, duration=6.0)
    m["song_mp3"] = synth.transcode_audio(m["song"], scan / "song.mp3")
    m["song_m4a"] = synth.transcode_audio(m["song"], scan / "song.m4a")
    m["script_b_reformatted"] = reformat_script(m["script_b"], scan / "ferry_draft.txt")
    m["script_c_copy"] = reformat_script(m["script_c"], scan / "cold_copy.txt")
    m["own_film"] = synth.make_film(scan / "own_film.mp4", seed=99, **FILM)
    m["own_audio"] = synth.make_audio(scan / "own_audio.wav", seconds=12.0, seed=98)
    m["own_script"] = synth.make_script(scan / "own_script.fountain", title="Our Own",
                                        author="Dev Team", scenes=12, seed=97)
    return m


def reformat_script(src: Path, dst: Path) -> Path:
    """A screenplay as a conversion tool would re-lay it: plain text, CRLF line ends, no
    Fountain markup, character cues and dialogue indented, upper/lower case changed in headings,
    every blank line doubled."""
    out = []
    for line in src.read_text("utf-8").splitlines():
        s = line.strip()
        if s.startswith(">") and s.endswith("<"):
            s = s.strip("<> ")
        elif s.startswith(">"):
            s = " " * 40 + s.lstrip("> ")
        elif s.isupper() and not s.startswith(("INT.", "EXT.")):
            s = " " * 20 + s
        elif s.startswith(("INT.", "EXT.")):
            s = s.title()
        elif s.startswith("("):
            s = " " * 15 + s
        elif s:
            s = "    " + s.replace(" ", "  ")
        out.append(s)
        if not s:
            out.append("")
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_bytes(("\r\n".join(out) + "\r\n").encode("utf-8"))
    return dst


def register_fake_asset(home, ledger, owner: str, path: Path, *, media_type: str = "video/mp4",
                        category: str = "video") -> str:
    """Register ``path`` as an asset without probing it (so a corrupt file can be registered,
    as one that was fine when registered elsewhere and broke in transit would be)."""
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    body = {"id": new_id("work"), "kind": "film", "title": f"Fake {sha[:6]}", "owner": owner,
            "assets": [{"sha256": sha, "size": len(data), "media_type": media_type,
                        "category": category, "duration_ms": 10_000, "name": path.name}]}
    ledger.submit([sign_statement(ledger.new_statement("work.registered", owner, body),
                                  home.party_key(owner))])
    return sha


def rights_story(home, ledger, m: dict[str, Path]) -> dict[str, str]:
    """Harbour Lights (film + theme) is licensed to Orbit AI and in force; Night Ferry (film +
    script) is registered but not licensed; Cold Open (script) is licensed but the guild has
    not co-signed. Works are registered without fingerprints (the caller fingerprints)."""
    ids: dict[str, str] = {}
    for label, kind, name in [("studio", "studio", "Northlight"), ("guild", "guild", "SPG"),
                              ("a", "performer", "Ada"), ("dev", "developer", "Orbit AI")]:
        ids[label] = register_party(home, ledger, kind, name).details["id"]
    ids["harbour"] = register_work(home, ledger, ids["studio"], "film", "Harbour Lights",
                                            [m["film_a"], m["song"]]).details["id"]
    ids["ferry"] = register_work(home, ledger, ids["studio"], "film", "Night Ferry",
                                          [m["film_b"], m["script_b"]]).details["id"]
    ids["cold"] = register_work(home, ledger, ids["studio"], "script", "Cold Open",
                                         [m["script_c"]]).details["id"]
    credit_work(home, ledger, ids["cold"], ids["a"], "performer", "1")
    licensing.add_agreement(home, ledger, ids["guild"], "TV/Theatrical 2023", ["performer"], "25")
    licensing.add_member(home, ledger, ids["guild"], ids["a"])
    for work, label, n in [("harbour", "lic_harbour", 1), ("cold", "lic_cold", 2)]:
        bundle = bundles.create_bundle(home, ledger, ids["studio"], f"Catalog {n}", "1",
                                       [ids[work]]).details["id"]
        policy = training_agreement(
            uid=f"urn:reelrights:policy:scan-{n}", licensor=ids["studio"], licensee=ids["dev"],
            bundle=bundle, model_family="orbit", territories=["US"], until="2027-12-31",
            fund_share="2.5")
        ids[label] = licensing.grant_license(home, ledger, bundle, ids["dev"],
                                             policy).details["id"]
    return ids


_CACHE: dict[str, dict[str, Path]] = {}


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The generated media, made once per session (shared by every module that imports it)."""
    if "m" not in _CACHE:
        _CACHE["m"] = make_media(tmp_path_factory.mktemp("fp_media"))
    return _CACHE["m"]
