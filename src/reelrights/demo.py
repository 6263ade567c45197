"""The end-to-end story, told as it happens, on a fresh embedded SQLite home.

A studio, a guild, two performers and a writer join the registry, each with a key of its own.
The studio registers a short film, its score and the screenplay, with media it generates here,
and credits the people who made them. Every step is a statement signed by the party that
asserts it and appended to the transparency log. The story ends the way an outsider would
check it: with the log's key, the static tiles and nothing else.

The story goes on: bundles and a guild-co-signed license (below), training commitments and
audits (:mod:`reelrights.demo_evidence`), then output provenance and the creative fund
(:mod:`reelrights.demo_outputs`).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

from .catalogue import check_body
from .core.checkpoint import open_checkpoint
from .core.merkle import verify_inclusion
from .core.note import NoteSigner, NoteVerifier
from .demo_evidence import evidence_story
from .demo_outputs import outputs_story
from .errors import BadInput
from .home import Home
from .ledger import Ledger
from .log.tiled import DirTileSource, verify_tiled_log
from .log.verify import verify_log
from .media.synth import make_audio, make_film, make_script
from .registry.credits import credit_work
from .registry.parties import list_parties, register_party
from .registry.works import register_work, work_detail
from .rights import bundles, consent, licensing


def run_demo(directory: Path, echo: Callable[[str], None] = print) -> dict[str, str]:
    """Run the story in ``directory`` (created fresh) and return the ids it made."""
    directory = directory.absolute()
    if directory.exists() and any(directory.iterdir()):
        if not (directory / "home" / "home.json").exists():
            raise BadInput(f"{directory} exists and is not a previous demo; name an empty or "
                           "new folder")
        shutil.rmtree(directory)  # a previous demo: start the story over
    media = directory / "media"
    media.mkdir(parents=True)

    def step(title: str) -> None:
        echo("")
        echo(f"== {title}")

    step(f"A fresh reelrights home in {directory / 'home'}")
    home, _ = Home.init(directory / "home")
    ledger = Ledger.open(home)
    vkey = NoteSigner(home.origin, home.log_key().seed).vkey
    echo(f"log origin {home.origin}; anyone verifies it with the key\n   {vkey}")

    step("Parties join, each with its own Ed25519 key (private keys stay in keys/, mode 0600)")
    ids: dict[str, str] = {}
    for label, kind, name in [
        ("studio", "studio", "Northlight Pictures"),
        ("guild", "guild", "Screen Performers Guild"),
        ("lead", "performer", "Ada Okafor"),
        ("support", "performer", "Bruno Lindqvist"),
        ("writer", "writer", "Mara Ellison"),
    ]:
        r = register_party(home, ledger, kind, name)
        ids[label] = r.details["id"]
        echo(f"{name:<26} {kind:<10} {ids[label]}   log index {r.index}")

    step("The studio makes its media (generated here: nothing is downloaded)")
    film = make_film(media / "harbour-lights.mp4", seconds=4.0, fps=24, size=(320, 240), seed=7,
                     scenes=3)
    score = make_audio(media / "harbour-lights-theme.wav", seconds=3.0, seed=7)
    script = make_script(media / "harbour-lights.fountain", title="Harbour Lights",
                         author="Mara Ellison", scenes=4, seed=7)
    for p in (film, score, script):
        echo(f"{p.name:<28} {p.stat().st_size:>9} bytes")

    step("The studio registers three works; each file is streamed for its SHA-256 and probed")
    works = [
        ("film", "film", "Harbour Lights", [film], ("eidr:10.5240/7791-8534-2C23-9030-8610-5",)),
        ("score", "score", "Harbour Lights (Original Score)", [score], ()),
        ("script", "script", "Harbour Lights (Screenplay)", [script], ()),
    ]
    for label, kind, title, files, ext in works:
        r = register_work(home, ledger, ids["studio"], kind, title, files, 2026, ext)
        ids[label] = r.details["id"]
        a = work_detail(ledger.db, ids[label]).assets[0]
        facts = ", ".join(f"{k} {getattr(a, k)}"
                          for k in ("duration_ms", "width", "height", "pages", "lines")
                          if getattr(a, k) is not None)
        echo(f"{title:<34} {ids[label]}  {a.media_type}  {facts}")
        echo(f"{'':<34} sha256 {a.sha256}   log index {r.index}")

    step("Registering the same bytes again yields the same asset, and says so")
    r = register_work(home, ledger, ids["studio"], "film", "Harbour Lights (festival cut)",
                               [film], 2026)
    again = r.details["assets"][0]
    echo(f"{again['name']}: already registered, first in {again['first_work']} "
         f"-> same asset {again['sha256'][:16]}…")

    step("Credits with exact shares (each role's shares add up to at most 1)")
    for work, party, role, share in [
        ("film", "lead", "performer", "0.6"), ("film", "support", "performer", "0.4"),
        ("film", "writer", "writer", "1"), ("script", "writer", "writer", "1"),
        ("score", "lead", "performer", "1/3"),
    ]:
        r = credit_work(home, ledger, ids[work], ids[party], role, share)
        echo(f"{ids[party]} {role:<9} {share:<4} on {ids[work]}   log index {r.index}")
    try:
        credit_work(home, ledger, ids["film"], ids["guild"], "performer", "0.1")
    except BadInput as exc:
        echo(f"refused, nothing written: {exc.message}")

    _rights_story(home, ledger, ids, echo, step)
    evidence_story(home, ledger, ids, media, {"film": film, "score": score, "script": script},
                   echo, step)
    outputs_story(home, ledger, ids, media, echo, step)

    step("The log: a signed C2SP checkpoint, and an inclusion proof checked against it")
    with ledger.db.read() as conn:
        note = ledger.log.checkpoint(conn)
        proof = ledger.log.inclusion(conn, work_detail(ledger.db, ids["film"]).log_index)
    echo(note.decode("utf-8").rstrip("\n"))
    cp = open_checkpoint(note, NoteVerifier(vkey))
    verify_inclusion(bytes.fromhex(proof["leaf_hash"]), proof["index"], proof["size"],
                     [bytes.fromhex(h) for h in proof["proof"]], cp.root)
    echo(f"entry {proof['index']} (the film's registration) is in the tree of size {cp.size}: "
         f"{len(proof['proof'])}-hash proof verified")

    step("Verification, as anyone would run it")
    with ledger.db.read() as conn:
        report = verify_log(conn, ledger.log, vkey, check_body=check_body)
    echo(f"reelrights log verify\n   {report.summary()}")
    tiled = verify_tiled_log(DirTileSource(home.log_dir), (home.log_dir / "checkpoint").read_bytes(),
                             vkey)
    echo(f"reelrights log verify --tiles {home.log_dir} --key <log key>\n   ok: {tiled.size} "
         "entries match the static tiles and the signed checkpoint")
    (directory / "ids.json").write_text(json.dumps(ids, indent=2) + "\n", "utf-8")
    echo("")
    echo(f"Done. Explore with: reelrights --home {directory / 'home'} work list | party list | "
         "log checkpoint")
    return ids



def _rights_story(home: Home, ledger: Ledger, ids: dict[str, str],
                  echo: Callable[[str], None], step: Callable[[str], None]) -> None:
    """Bundles, a guild-co-signed license, a performer's consent, and the policy engine."""
    from .core.license_terms import training_agreement
    from .rights.policy import check, resolve_context

    step("An AI developer joins; the studio bundles its works for licensed training")
    ids["developer"] = register_party(home, ledger, "developer", "Orbit AI").details["id"]
    echo(f"{'Orbit AI':<26} developer  {ids['developer']}")
    r = bundles.create_bundle(home, ledger, ids["studio"], "Harbour Lights training set", "1",
                              [ids["film"], ids["score"], ids["script"]],
                              description="The film, its score and its screenplay")
    ids["bundle"] = r.details["id"]
    b = bundles.bundle_detail(ledger.db, ids["bundle"])
    totals = b.totals
    echo(f"bundle {ids['bundle']} v1: {totals['assets']} assets, {totals['video_ms'] / 1000:.1f} s "
         f"video, {totals['audio_ms'] / 1000:.1f} s audio, {totals['script_pages']} script pages")
    echo(f"  Merkle root over the sorted asset hashes (RFC 9162): {b.root}")
    names = {p.id: p.name for p in list_parties(ledger.db)}
    people = [c.party for c in b.contributors]
    echo(f"  credited contributors: {', '.join(f'{names[p]} ({p})' for p in people)}")

    step("The guild registers its agreement (covers performers, 25% to its fund); Ada is a member")
    ids["agreement"] = licensing.add_agreement(home, ledger, ids["guild"], "TV/Theatrical 2023",
                                               ["performer"], "25").details["id"]
    licensing.add_member(home, ledger, ids["guild"], ids["lead"])
    echo(f"agreement {ids['agreement']}; member {ids['lead']} (Ada Okafor)")

    step("The studio licenses the bundle to Orbit AI under ODRL terms")
    policy = training_agreement(
        uid=f"urn:reelrights:policy:{ids['bundle']}-orbit-1", licensor=ids["studio"],
        licensee=ids["developer"], bundle=ids["bundle"], model_family="orbit-video",
        territories=["US"], until="2027-12-31", fund_share="2.5", voice_performers=[ids["lead"]])
    (home.path.parent / "license-policy.json").write_text(json.dumps(policy, indent=2) + "\n")
    r = licensing.grant_license(home, ledger, ids["bundle"], ids["developer"], policy)
    ids["license"] = r.details["id"]
    echo(f"license {ids['license']}: train model family orbit-video in the US until 2027-12-31, "
         "2.5% of revenue to the fund, Ada's voice only with her consent")
    echo(f"  not in force until co-signed by {', '.join(names[g] for g in r.details['required_cosigners'])}"
         " (Ada, a member, is credited as a performer)")
    on = date(2027, 3, 1)

    def ask(action: str, performer: str | None = None) -> None:
        with ledger.db.read() as conn:
            ctx = resolve_context(conn, licensee=ids["developer"], action=action,
                                  model_family="orbit-video", on=on, territory="US",
                                  performer=performer)
            v = check(conn, ctx, bundle=ids["bundle"])
        who = f" --performer {performer} ({names[performer]})" if performer else ""
        echo(f"reelrights check --action {action}{who} --bundle {ids['bundle']} --date {on}")
        echo(f"   {'ALLOW' if v.allowed else 'DENY'}")
        for reason in v.reasons:
            echo(f"     - {reason}")

    ask("train")
    licensing.cosign_license(home, ledger, ids["license"], ids["guild"])
    echo("the guild co-signs the license")
    ask("train")

    step("Ada consents to a specific use of her voice, signed with her own key")
    ids["consent"] = consent.grant_consent(
        home, ledger, performer=ids["lead"], kinds=["voice"],
        description="Synthesized narration of the Harbour Lights trailer and its teaser cut",
        media=["audio"], territory=["US"], start=date(2027, 1, 1), end=date(2027, 12, 31),
        compensation_ref="SPG-2027-0117", represented_by="guild",
        model_family="orbit-video").details["id"]
    echo(f"consent {ids['consent']}")
    ask("synthesizeVoice", ids["lead"])
    ask("synthesizeVoice", ids["support"])
