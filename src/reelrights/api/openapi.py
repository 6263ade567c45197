"""The service's OpenAPI 3.1 document, written here once.

``GET /openapi.json`` serves it, and docs/openapi.json keeps a copy:
``python -m reelrights.api.openapi --output docs/openapi.json`` (``make docs``) writes it, and
tests/service/test_openapi.py fails when the copy or the application's routes have drifted
from this source. Schemathesis checks the live server against it.
"""

from __future__ import annotations

import argparse
import json
import sys
from functools import cache
from pathlib import Path
from typing import Any

__all__ = ["document", "document_bytes", "main"]

_PROBLEM = "application/problem+json"
_REF = "#/components/schemas/"
Json = dict[str, Any]


def _ref(name: str) -> Json:
    return {"$ref": _REF + name}


def _problem(description: str) -> Json:
    return {"description": description, "content": {_PROBLEM: {"schema": _ref("Problem")}}}


def _json(description: str, schema: Json, headers: Json | None = None) -> Json:
    out: Json = {"description": description, "content": {"application/json": {"schema": schema}}}
    if headers:
        out["headers"] = headers
    return out


def _octets(description: str) -> Json:
    return {"description": description,
            "headers": {"Cache-Control": {"schema": {"type": "string"}, "description":
                        "`public, max-age=31536000, immutable` for full tiles and bundles, "
                        "`public, max-age=60` for partial ones"}},
            "content": {"application/octet-stream": {
                "schema": {"type": "string", "contentMediaType": "application/octet-stream"}}}}


_UNAVAILABLE = _problem("The database is unavailable (slug unavailable); see Retry-After")


def _get(op_id: str, summary: str, tag: str, responses: Json, *,
         parameters: list[Json] | None = None, description: str | None = None) -> Json:
    """A GET operation; one that reads the database (every tag but operations) may be 503."""
    if tag != "operations":
        responses = {**responses, "503": _UNAVAILABLE}
    op: Json = {"operationId": op_id, "summary": summary, "tags": [tag]}
    if description:
        op["description"] = description
    if parameters:
        op["parameters"] = parameters
    op["responses"] = responses
    return {"get": op}


def _path_param(name: str, description: str, schema: Json) -> Json:
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": schema}


def _query_int(name: str, description: str, *, required: bool, minimum: int) -> Json:
    return {"name": name, "in": "query", "required": required, "description": description,
            "schema": {"type": "integer", "minimum": minimum, "maximum": (1 << 63) - 1}}


_HEX32 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
_INDEX = {"type": "integer", "minimum": 0}
_LOG_TIME = {"type": "string", "description": "The log's time of the entry (RFC 3339, UTC)"}
_TILE_N = {"type": "string", "pattern": r"^(x[0-9]{3}/)*[0-9]{3}(\.p/[1-9][0-9]{0,2})?$",
           "description": "Tile index in groups of three digits, all but the last prefixed "
                          "with x (1234067 -> x001/x234/067), then .p/<W> for a partial tile "
                          "of width W (1..255)"}


def _record(description: str, required: list[str], props: Json) -> Json:
    return {"type": "object", "description": description, "required": required,
            "properties": props, "additionalProperties": True}


def _id(prefix: str) -> Json:
    return {"type": "string", "pattern": f"^{prefix}_[a-z2-7]{{16}}$"}


_LIST = {"type": "array"}
_STR = {"type": "string"}
_NSTR = {"type": ["string", "null"]}
_BOOL = {"type": "boolean"}

SCHEMAS: Json = {
    "Problem": {
        "type": "object", "description": "RFC 9457 problem details",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string", "format": "uri",
                     "description": "https://reelrights.dev/problems/<slug>"},
            "title": _STR, "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": {"type": "string", "description": "The same message the CLI prints"},
            "position": {"type": "integer", "minimum": 0,
                         "description": "The refused statement's place in the batch, from 0"},
            "exit_code": {"type": "integer", "description": "The CLI's exit code for it"},
        },
        "additionalProperties": True},
    "LogInfo": {
        "type": "object", "required": ["origin", "log_key", "registry", "size", "checkpoint"],
        "properties": {
            "origin": _STR,
            "log_key": {"type": "string", "description": "Note verifier key "
                        "<origin>+<key id>+<base64(0x01 || Ed25519 public key)>"},
            "registry": _NSTR, "size": _INDEX,
            "checkpoint": {"type": "string", "description": "The latest signed checkpoint "
                           "(C2SP signed note text)"},
            "cosigned_checkpoint": {"type": "string", "description": "Only when the log has "
                                    "witnesses: the largest checkpoint they cosigned, with each "
                                    "witness's latest tlog-cosignature line (empty: none yet)"}},
        "additionalProperties": False},
    "InclusionProof": {
        "type": "object", "required": ["index", "size", "leaf_hash", "proof"],
        "properties": {"index": _INDEX, "size": {"type": "integer", "minimum": 1},
                       "leaf_hash": _HEX32, "proof": {"type": "array", "items": _HEX32}},
        "additionalProperties": False},
    "ConsistencyProof": {
        "type": "object", "required": ["old", "new", "proof"],
        "properties": {"old": {"type": "integer", "minimum": 1},
                       "new": {"type": "integer", "minimum": 1},
                       "proof": {"type": "array", "items": _HEX32}},
        "additionalProperties": False},
    "Checkpoints": {
        "type": "object", "required": ["checkpoints"],
        "properties": {"checkpoints": {"type": "array", "maxItems": 1000, "items": {
            "type": "object", "required": ["size", "note"], "additionalProperties": False,
            "properties": {"size": {"type": "integer", "minimum": 1},
                           "note": {"type": "string", "description": "The signed checkpoint "
                                    "(C2SP signed note text)"}}}}},
        "additionalProperties": False},
    "Entry": {
        "type": "object", "required": ["index", "entry", "leaf_hash"],
        "properties": {"index": _INDEX,
                       "entry": {"type": "string", "description": "The leaf's exact bytes as "
                                 "UTF-8 text (RFC 8785 JSON); SHA-256(0x00 || bytes) is "
                                 "leaf_hash"},
                       "leaf_hash": _HEX32, "log_time": _LOG_TIME},
        "additionalProperties": False},
    "Receipt": {
        "type": "object", "required": ["index", "type", "actor", "leaf_hash"],
        "description": "Where the log put a statement; POST /v1/statements adds the applier's "
                       "details",
        "properties": {"index": _INDEX, "type": _STR, "actor": _STR, "leaf_hash": _HEX32,
                       "statement": _id("stm"), "log_time": _LOG_TIME},
        "additionalProperties": True},
    "Receipts": {
        "type": "object", "required": ["receipts", "checkpoint"],
        "properties": {"receipts": {"type": "array", "items": _ref("Receipt")},
                       "checkpoint": {"type": "string", "description": "A signed checkpoint "
                                      "whose size exceeds every receipt's index"}},
        "additionalProperties": False},
    "Party": _record("`party show --json`", ["id", "kind", "name", "log_index"], {
        "id": _id("pty"), "kind": _STR, "name": _STR, "public_key": _STR, "key_id": _STR,
        "log_index": _INDEX, "works_owned": _LIST, "credits": _LIST,
        "identity": {"type": "object", "description": "How the party's identity was verified "
                     "(docs/identity.md): status pending, admitted or lapsed; label"},
        "shown_as": {"type": "string", "description": "The name as shown: with its verified "
                     "domain or attesting guild beside it"},
        "lookalikes": {"type": "array", "description": "Parties whose names can be mistaken "
                       "for this one's, each shown with its own identity"}}),
    "Nonce": {
        "type": "object", "required": ["party", "domain", "nonce", "expires_at", "document",
                                       "txt"],
        "properties": {"party": _id("pty"), "domain": _STR, "nonce": _STR, "expires_at": _STR,
                       "document_url": _STR,
                       "document": {"type": "object", "description": "The JSON to publish at "
                                    "https://DOMAIN/.well-known/reelrights.json"},
                       "txt_name": _STR, "txt": {"type": "string", "description": "Or this "
                                                 "TXT record at _reelrights.DOMAIN"}},
        "additionalProperties": False},
    "Work": _record("`work show --json`", ["id", "kind", "title", "owner", "log_index"], {
        "id": _id("wrk"), "kind": _STR, "title": _STR, "owner": _STR, "log_index": _INDEX,
        "assets": _LIST, "credits": _LIST}),
    "Bundle": _record("`bundle show --json`", ["id", "name", "version", "owner", "log_index"], {
        "id": _id("bnd"), "name": _STR, "version": {"type": "integer"}, "owner": _STR,
        "root": _STR, "leaf_hash": _STR, "log_index": _INDEX, "works": _LIST,
        "versions": _LIST, "latest": _BOOL}),
    "License": _record("`license show --json`", ["id", "bundle", "licensor", "licensee",
                                                  "log_index", "in_force"], {
        "id": _id("lic"), "bundle": _STR, "licensor": _STR, "licensee": _STR,
        "log_index": _INDEX, "in_force": _BOOL, "revoked": _BOOL, "history": _LIST}),
    "Run": _record("`run show --json`", ["id", "developer", "root", "count", "log_index",
                                         "audits"], {
        "id": _id("run"), "developer": _STR, "root": _STR, "count": {"type": "integer"},
        "log_index": _INDEX, "usage": _LIST, "audits": _LIST}),
    "Certificate": _record("`audit show CERT --json`", ["statement", "log_index", "signatures"], {
        "statement": {"type": "object"}, "log_index": {"type": ["integer", "null"]},
        "signatures": _LIST}),
    "Output": _record("The output record (`output.registered`)", [
        "id", "developer", "run", "sha256", "log_index"], {
        "id": _id("out"), "developer": _STR, "run": _STR, "sha256": _STR,
        "model_commitment": _STR, "log_index": _INDEX}),
    "Consent": _record("`consent show --json`", ["id", "performer", "log_index", "status"], {
        "id": _id("cns"), "performer": _STR, "signed_by": _STR, "status": _STR,
        "log_index": _INDEX, "history": _LIST}),
    "Production": _record("`production show --json`", ["id", "studio", "log_index"], {
        "id": _id("prd"), "studio": _STR, "title": _STR, "log_index": _INDEX,
        "outputs": _LIST}),
    "Dispute": _record("`dispute show --json`", ["id", "status", "log_index"], {
        "id": _id("dsp"), "status": _STR, "log_index": _INDEX, "history": _LIST}),
    "RevenueReport": _record("A studio's revenue report (`fund import`) with its rows",
                             ["id", "reporter", "period", "log_index"], {
        "id": _id("rev"), "reporter": _STR, "period": _STR, "log_index": _INDEX,
        "rows": _LIST}),
    "FundTotals": _record("What the fund allocated from one quarter's revenue; the totals are "
                          "public where at least 3 productions contribute",
                          ["period", "productions"], {
        "period": _STR, "productions": {"type": "integer", "minimum": 0},
        "totals": _LIST, "by_production": _LIST}),
    "RoyaltyStatement": _record("An issued royalty statement (`fund statement`) with its "
                                "document", ["id", "fund", "period", "log_index"], {
        "id": _id("fst"), "fund": _STR, "party": _STR, "period": _STR, "log_index": _INDEX,
        "totals": _LIST, "document": {"type": "object"}}),
}

#: The optional request signature of a read (RFC 9421), and what a lookup's answer says of it.
_SIGNATURE_PARAMS: list[Json] = [
    {"name": "Signature-Input", "in": "header", "required": False,
     "description": 'RFC 9421: reelrights=("@method" "@authority" "@path" "@query");'
                    'created=<unix s>;keyid="<16 hex>";alg="ed25519";nonce="<16-64 chars>";'
                    'tag="<registry id>"',
     "schema": {"type": "string"}},
    {"name": "Signature", "in": "header", "required": False,
     "description": "RFC 9421: reelrights=:<base64 Ed25519 signature>:",
     "schema": {"type": "string"}},
]
_VISIBILITY_HEADERS: Json = {
    "Reelrights-Roles": {"schema": {"type": "string"},
                         "description": "The reader's roles for this record, comma-separated "
                                        "(public always)"},
    "Reelrights-Withheld": {"schema": {"type": "string"},
                            "description": "The record's fields withheld from this reader"},
    "Cache-Control": {"schema": {"type": "string"}, "description": "private, no-store"},
}


def _lookups() -> list[tuple[str, str, str, str]]:
    """(collection, record kind, an example id, schema name) of each lookup route, from the routes'
    own table (:data:`reelrights.api.reads.LOOKUPS`), so the document names every one of them."""
    from ..access.records import id_example
    from .reads import LOOKUPS

    return [(collection, kind, id_example(kind),
             "".join(w.capitalize() for w in kind.split("_")))
            for collection, kind in LOOKUPS.items()]


def _statements_post() -> Json:
    """POST /v1/statements as docs/service.md's contract gives it (the write path's owner
    implements it)."""
    refusal = {str(code): _problem(text) for code, text in (
        (403, "The signing key is not on the operator's allowlist (slug key-not-allowed), or "
              "its party is not admitted (slug not-admitted)"),
        (409, "Conflicts with the log: the same statement id with other bytes, a replaced "
              "fact"),
        (413, "Body too large: 64 KiB for one entry, 16 MiB or 1,000 entries for a batch"),
        (415, "Content type is not application/json, application/jsonl or "
              "application/x-ndjson"),
        (422, "A statement was refused: detail is the CLI's message, position its place in "
              "the batch; nothing of the batch was written"),
        (429, "Rate limited (slug rate-limited); see Retry-After"),
        (503, "The database is unavailable (slug unavailable); see Retry-After"))}
    batch = {"type": "string", "description": "One log entry per line (a final newline is "
             "optional); all-or-nothing"}
    return {"post": {
        "operationId": "submitStatements", "summary": "Append one signed statement or a batch",
        "tags": ["write"],
        "description": "The body is exactly the log entry bytes `reelrights statement sign` "
                       "writes. The answer comes after the commit is durable and the "
                       "checkpoint that includes it is published. The same bytes again answer "
                       "the original receipt (header Reelrights-Duplicate: true).",
        "requestBody": {"required": True, "content": {
            "application/json": {"schema": {"type": "object", "description": "One signed "
                                            "statement (RFC 8785 JSON), at most 64 KiB"}},
            "application/jsonl": {"schema": batch},
            "application/x-ndjson": {"schema": batch}}},
        "responses": {"200": _json("Receipts and the checkpoint that includes them",
                                   _ref("Receipts"), {"Reelrights-Duplicate": {
                                       "schema": {"type": "string", "enum": ["true"]},
                                       "description": "Present when every entry was "
                                                      "already logged"}}),
                      "400": _problem("Malformed body"), **refusal}}}


def _identity_posts() -> dict[str, Json]:
    """POST /v1/identity/nonces and /v1/identity/admissions (docs/identity.md)."""
    common = {"400": _problem("Malformed body"),
              "404": _problem("Unknown party, or a nonce not issued for this party and domain"),
              "409": _problem("Already admitted, the nonce used or expired, or the domain held "
                              "by another admitted party"),
              "413": _problem("Body too large"),
              "422": _problem("Invalid input, or (slug verification-failed) the proof did not "
                              "hold: named in detail; nothing was logged"),
              "429": _problem("Rate limited (slug rate-limited); see Retry-After"),
              "503": _problem("The database is unavailable; see Retry-After")}
    nonce = {"post": {
        "operationId": "issueNonce", "summary": "A single-use nonce for a domain proof",
        "tags": ["identity"],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["party", "domain", "time", "signature"],
            "additionalProperties": False,
            "description": "signature: base64 Ed25519 by the party's key over the lines "
                           "reelrights/nonce-request/v1, registry, party, domain, time",
            "properties": {"party": _id("pty"), "domain": _STR, "time": _STR,
                           "signature": _STR}}}}},
        "responses": {"200": _json("The nonce and what to publish", _ref("Nonce")), **common,
                      "422": _problem("Invalid input, a time more than 5 minutes off, or (slug "
                                      "verification-failed) a signature that is not the "
                                      "party's")}}}
    admission = {"post": {
        "operationId": "requestAdmission",
        "summary": "Check a party's signed admission request and log it with its admission",
        "tags": ["identity"],
        "description": "The body is the party's signed admission.requested statement. The "
                       "service fetches the domain proof it names (HTTPS to public addresses "
                       "only, no redirects, 64 KiB, 5 s) or checks the guild's membership "
                       "statement, then logs the request and the operator's party.admitted.",
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "description": "One signed statement (RFC 8785 JSON)"}}}},
        "responses": {"200": _json("Both receipts and a checkpoint that includes them",
                                   _ref("Receipts")),
                      "403": _problem("Denied by a rule (a guild not admitted, a party that "
                                      "is not a performer or writer)"),
                      "415": _problem("Content type is not application/json"), **common}}}
    return {"/v1/identity/nonces": nonce, "/v1/identity/admissions": admission}


@cache
def document() -> Json:
    """The OpenAPI 3.1 document of every endpoint of ``reelrights serve``."""
    tiles = "tlog-tiles"
    paths: Json = {
        "/checkpoint": _get("getCheckpoint", "The latest signed checkpoint", tiles, {
            "200": {"description": "C2SP tlog-checkpoint as a signed note, with the "
                                   "tlog-cosignature lines its witnesses returned for it",
                    "headers": {"Cache-Control": {"schema": {"type": "string"},
                                "description": "public, max-age=2"}},
                    "content": {"text/plain": {"schema": {"type": "string"}}}},
            "404": _problem("The log has no checkpoint yet")}),
        "/tile/{L}/{N}": _get("getTile", "A Merkle tree tile (C2SP tlog-tiles)", tiles, {
            "200": _octets("Concatenated SHA-256 hashes: 8,192 bytes for a full tile, "
                           "32 x W for a partial one"),
            "404": _problem("Beyond the tree, or not a canonical tile path")}, parameters=[
            _path_param("L", "Level, 0 to 63", {"type": "string", "pattern":
                                                "^(0|[1-9][0-9]?)$"}),
            _path_param("N", "Index (and width)", _TILE_N)]),
        "/tile/entries/{N}": _get("getEntryBundle", "An entry bundle (C2SP tlog-tiles)", tiles, {
            "200": _octets("uint16 big-endian length-prefixed entries of one level-0 tile"),
            "404": _problem("Beyond the log, or not a canonical bundle path")}, parameters=[
            _path_param("N", "Index (and width)", _TILE_N)]),
        "/v1/log": _get("getLog", "The log: origin, key, registry, size, checkpoint", "log", {
            "200": _json("The log", _ref("LogInfo"))}),
        "/v1/proofs/inclusion": _get("getInclusionProof", "RFC 9162 inclusion proof", "log", {
            "200": _json("The proof", _ref("InclusionProof")),
            "400": _problem("A parameter is missing, malformed, or size is beyond the log"),
            "404": _problem("index is not in the tree of that size")}, parameters=[
            _query_int("index", "Leaf index", required=True, minimum=0),
            _query_int("size", "Tree size (default: the latest)", required=False, minimum=1)]),
        "/v1/proofs/file": _get("getProofFile", "Offline proof file (c2sp.org/tlog-proof)", "log", {
            "200": {"description": "The entry, its related entries and their inclusion proofs "
                                   "in the latest checkpoint; `reelrights verify` checks it "
                                   "with the log's public key (docs/verify.md)",
                    "content": {"text/plain": {"schema": {"type": "string"}}}},
            "400": _problem("ref is missing or is neither a log index nor a known id"),
            "404": _problem("ref is not in the log")}, parameters=[
            {"name": "ref", "in": "query", "required": True,
             "description": "A log index, or a license, certificate, output, run or royalty "
                            "statement id", "schema": {"type": "string", "maxLength": 40}}]),
        "/v1/proofs/consistency": _get("getConsistencyProof", "RFC 9162 consistency proof",
                                       "log", {
            "200": _json("The proof", _ref("ConsistencyProof")),
            "400": _problem("A parameter is missing or malformed, old > new, or new is beyond "
                            "the log")}, parameters=[
            _query_int("old", "Older tree size", required=True, minimum=1),
            _query_int("new", "Newer tree size (default: the latest)", required=False,
                       minimum=1)]),
        "/v1/checkpoints": _get("getCheckpoints", "Checkpoints issued after a size", "log", {
            "200": _json("Up to limit checkpoints with a size above after, smallest first",
                         _ref("Checkpoints")),
            "400": _problem("A parameter is malformed")}, parameters=[
            _query_int("after", "List checkpoints whose size is above this (default 0)",
                       required=False, minimum=0),
            _query_int("limit", "At most this many (default and cap 1,000)", required=False,
                       minimum=1)]),
        "/v1/entries/{index}": _get("getEntry", "One log entry", "log", {
            "200": _json("The entry", _ref("Entry")),
            "404": _problem("No such index")}, parameters=[
            _path_param("index", "Log index", {"type": "string", "pattern": "^[0-9]{1,19}$"})]),
        "/v1/statements": _statements_post(),
        **_identity_posts(),
        "/v1/statements/{id}": _get("getStatement", "Where a statement was logged", "log", {
            "200": _json("Its receipt (without the applier's details)", _ref("Receipt")),
            "404": _problem("Not a statement id, or not in the log")}, parameters=[
            _path_param("id", "Statement id", _id("stm"))]),
    }
    sealed_id = _path_param("id", "Statement id (stm_…), or the license (lic_…), revenue "
                                  "report (rev_…) or royalty statement (fst_…) it made",
                            {"type": "string", "pattern": "^(stm|lic|rev|fst)_[a-z2-7]{16}$"})
    signed_refusals = {
        "401": _problem("Not signed, or a request signature refused (slugs signature-missing, "
                        "signature-unknown-key, signature-stale, signature-replayed, "
                        "signature-invalid)"),
        "403": _problem("Signed by a party who may read none of it, or not the fields asked "
                        "for (not-visible)"),
        "404": _problem("Not a sealed statement here, or its body is erased or unavailable")}
    paths["/v1/sealed/{id}"] = _get(
        "getSealedBody", "A sealed statement's private fields, to the parties entitled to them",
        "sealed", {
            "200": _json("A disclosure of the fields the signed reader may read (docs/sealed.md;"
                         " `reelrights sealed verify` checks it)", {"type": "object"},
                         {"Reelrights-Roles": _VISIBILITY_HEADERS["Reelrights-Roles"],
                          "Cache-Control": _VISIBILITY_HEADERS["Cache-Control"]}),
            "400": _problem("Not a statement, license, revenue report or royalty statement id, "
                            "or a malformed fields list (slug bad-request)"),
            **signed_refusals},
        parameters=[sealed_id, *_SIGNATURE_PARAMS,
                    {"name": "fields", "in": "query", "required": False,
                     "description": "Only these leaf paths, comma-separated (/body/policy); one "
                                    "the reader may not read is refused",
                     "schema": {"type": "string"}}],
        description="Signed with RFC 9421 HTTP Message Signatures like every non-public read "
                    "(docs/visibility.md); the matrix's sealed_body row says who reads what.")
    paths["/v1/sealed/{id}/grants"] = {"post": {
        "operationId": "grantSealedFields", "tags": ["sealed"],
        "summary": "Disclose some sealed fields to another party (a regulator)",
        "description": "Signed (RFC 9421, with Content-Digest) by a party that reads the whole "
                       "body; the service records the grant and the recipient can then fetch "
                       "exactly those fields with GET /v1/sealed/{id}.",
        "parameters": [sealed_id, *_SIGNATURE_PARAMS],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["to", "fields"],
            "properties": {"to": _STR, "fields": {"type": "array", "items": _STR}}}}}},
        "responses": {"201": _json("The grant recorded", {"type": "object"}),
                      "400": _problem("Not {to, fields}, an unknown field, or a grant to "
                                      "oneself"),
                      "413": _problem("Over 64 KiB (slug too-large)"),
                      **signed_refusals, "503": _UNAVAILABLE}}}
    paths["/v1/sealed/{id}/grants/{grant}"] = {"delete": {
        "operationId": "withdrawSealedGrant", "tags": ["sealed"],
        "summary": "Withdraw a disclosure grant: its recipient reads nothing more of it",
        "description": "Signed (RFC 9421) by the party that granted it, or the statement's "
                       "signer. What the recipient fetched before, it keeps.",
        "parameters": [sealed_id, {"name": "grant", "in": "path", "required": True,
                                   "description": "The grant's number (`grant` in the answer "
                                                  "to POST /v1/sealed/{id}/grants)",
                                   "schema": {"type": "string", "pattern": "^[0-9]{1,18}$"}},
                       *_SIGNATURE_PARAMS],
        "responses": {"200": _json("The grant withdrawn", {"type": "object"}),
                      "400": _problem("Not a grant number, or not a sealed statement's id"),
                      **{**signed_refusals,
                         "403": _problem("Signed by a party that neither granted it nor "
                                         "signed the statement (not-visible)"),
                         "404": _problem("No such grant of this statement (or withdrawn)")},
                      "503": _UNAVAILABLE}}}
    from ..access.records import id_pattern

    for collection, kind, example, schema in _lookups():
        noun = kind.replace("_", " ")
        paths[f"/v1/{collection}/{{id}}"] = _get(
            f"get{schema}", f"A {noun} by id, as the reader may see it", "lookups", {
                "200": _json(SCHEMAS[schema]["description"] + ": the fields the visibility "
                             "matrix gives the reader (docs/visibility.md)", _ref(schema),
                             _VISIBILITY_HEADERS),
                "401": _problem("Not public and not signed, or a request signature refused "
                                "(slugs signature-missing, signature-unknown-key, "
                                "signature-stale, signature-replayed, signature-invalid)"),
                "403": _problem("Signed by a party who may see nothing of it (not-visible)"),
                "404": _problem(f"Not a {noun} id, or none is logged")},
            parameters=[_path_param("id", f"{noun.capitalize()} id (like {example})",
                                    {"type": "string", "pattern": f"^{id_pattern(kind)}$"}),
                        *_SIGNATURE_PARAMS],
            description="Anyone may ask; what is answered depends on who asks. An unsigned "
                        "request sees the public fields. A request signed with RFC 9421 HTTP "
                        "Message Signatures (Ed25519, keyid = the party's key id, created within "
                        "60 s, a fresh nonce, tag = the registry id, covering @method "
                        "@authority @path @query) by a "
                        "party's key sees what that party's roles add.")
    from .openapi_softbinding import paths as soft_binding_paths

    paths.update(soft_binding_paths())
    paths.update({
        "/healthz": _get("getHealth", "Liveness: the process answers", "operations", {
            "200": _json("Alive", {"type": "object", "required": ["status"],
                                   "properties": {"status": {"const": "ok"}}})}),
        "/readyz": _get("getReadiness", "Readiness: database up, log head not behind the "
                        "published checkpoint", "operations", {
            "200": _json("Ready", {"type": "object", "required": ["status", "size", "published"],
                                   "properties": {"status": {"const": "ready"}, "size": _INDEX,
                                                  "published": _INDEX}}),
            "503": _problem("Not ready: detail says why (slug not-ready)")}),
        "/metrics": _get("getMetrics", "Prometheus metrics (every worker's)", "operations", {
            "200": {"description": "Prometheus text exposition format",
                    "content": {"text/plain": {"schema": {"type": "string"}}}}}),
        "/openapi.json": _get("getOpenAPI", "This document", "operations", {
            "200": _json("OpenAPI 3.1", {"type": "object"})}),
    })
    return {
        "openapi": "3.1.0",
        "info": {"title": "reelrights", "version": "1",
                 "description": "A verifiable rights clearinghouse: one transparency log of "
                                "signed statements, served as C2SP tlog-tiles, with proofs and "
                                "lookups. Errors are RFC 9457 problem details. docs/service.md "
                                "describes the service."},
        "paths": paths,
        "components": {"schemas": SCHEMAS},
    }


@cache
def document_bytes() -> bytes:
    """The document as docs/openapi.json holds it (indented, ending in a newline)."""
    return (json.dumps(document(), indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reelrights.api.openapi",
                                     description="Write the service's OpenAPI document.")
    parser.add_argument("--output", "-o", type=Path, help="Write it here (default: stdout).")
    parser.add_argument("--check", action="store_true",
                        help="Exit 1 when --output differs from the document.")
    args = parser.parse_args(argv)
    data = document_bytes()
    if args.check:
        if args.output is None:
            parser.error("--check needs --output FILE")
        if not args.output.is_file() or args.output.read_bytes() != data:
            print(f"{args.output} is stale: run make docs", file=sys.stderr)
            return 1
        return 0
    if args.output is None:
        sys.stdout.buffer.write(data)
    else:
        args.output.write_bytes(data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
