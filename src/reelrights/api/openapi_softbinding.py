"""OpenAPI paths of the C2PA Soft Binding Resolution API subset (:mod:`.softbinding`)."""

from __future__ import annotations

from typing import Any

__all__ = ["paths"]

Json = dict[str, Any]
_PROBLEM = {"content": {"application/problem+json": {
    "schema": {"$ref": "#/components/schemas/Problem"}}}}
_TAG = "soft-binding"


def _problem(text: str) -> Json:
    return {"description": text, **_PROBLEM}


_MATCHES: Json = {"description": "Every output that matches, best first (ties all named)",
                  "content": {"application/json": {"schema": {
                      "type": "object", "required": ["matches"],
                      "properties": {"matches": {"type": "array", "items": {
                          "type": "object",
                          "required": ["manifestId", "similarityScore", "output", "log_index"],
                          "properties": {
                              "manifestId": {"type": "string"},
                              "similarityScore": {"type": "integer", "minimum": 0,
                                                  "maximum": 100},
                              "output": {"type": "string", "pattern": "^out_[a-z2-7]{16}$"},
                              "signal": {"type": "string"},
                              "log_index": {"type": "integer", "minimum": 0}}}}}}}}}
_MAX: Json = {"name": "maxResults", "in": "query", "required": False,
              "description": "At most this many matches (1 to 100, default 10)",
              "schema": {"type": "integer", "minimum": 1, "maximum": 100}}
_UNAVAILABLE = _problem("The database is unavailable (slug unavailable); see Retry-After")


def paths() -> Json:
    by_binding_params = [
        {"name": "alg", "in": "query", "required": True, "description": "Soft-binding "
         "algorithm id (see /v1/services/supportedAlgorithms)", "schema": {"type": "string"}},
        {"name": "value", "in": "query", "required": True, "description": "One soft-binding "
         "value, base64 (io.iscc.v0: also the code itself, ISCC:EEA…)",
         "schema": {"type": "string"}}, _MAX]
    errors = {"422": _problem("A bad alg, value or maxResults (slug invalid-statement)"),
              "503": _UNAVAILABLE}
    return {
        "/v1/matches/byBinding": {
            "get": {"operationId": "getMatchesByBinding", "tags": [_TAG],
                    "summary": "Outputs matching one soft-binding value",
                    "parameters": by_binding_params,
                    "responses": {"200": _MATCHES, **errors}},
            "post": {"operationId": "postMatchesByBinding", "tags": [_TAG],
                     "summary": "Outputs matching one soft-binding value (JSON body)",
                     "requestBody": {"required": True, "content": {"application/json": {
                         "schema": {"type": "object", "required": ["alg", "value"],
                                    "properties": {"alg": {"type": "string"},
                                                   "value": {"type": "string"},
                                                   "maxResults": {"type": "integer"}}}}}},
                     "responses": {"200": _MATCHES, **errors}}},
        "/v1/matches/byContent": {"post": {
            "operationId": "postMatchesByContent", "tags": [_TAG],
            "summary": "Outputs matching a media file (at most 20 MB and 60 s; rate-limited)",
            "parameters": [_MAX, {"name": "alg", "in": "query", "required": False,
                                  "description": "io.iscc.v0: match an image by its ISCC "
                                                 "Image-Code only (default: the content's own "
                                                 "fingerprint)", "schema": {"type": "string"}}],
            "requestBody": {"required": True, "content": {"*/*": {"schema": {
                "type": "string", "contentMediaType": "application/octet-stream"}}}},
            "responses": {"200": _MATCHES, **errors,
                          "413": _problem("Over 20 MB (slug too-large)"),
                          "429": _problem("Rate limited (slug rate-limited); see Retry-After")}}},
        "/v1/manifests/{manifest_id}": {"get": {
            "operationId": "getManifest", "tags": [_TAG],
            "summary": "A published manifest store by label (urn:c2pa:…) or output id",
            "parameters": [{"name": "manifest_id", "in": "path", "required": True,
                            "schema": {"type": "string"}}],
            "responses": {"200": {"description": "The manifest store", "content": {
                "application/c2pa": {"schema": {"type": "string",
                                                "contentMediaType": "application/c2pa"}}}},
                "404": _problem("No such manifest is published here"), "503": _UNAVAILABLE}}},
        "/v1/services/supportedAlgorithms": {"get": {
            "operationId": "getSupportedAlgorithms", "tags": [_TAG],
            "summary": "The soft-binding algorithms this service resolves",
            "responses": {"200": {"description": "Watermarks and fingerprints", "content": {
                "application/json": {"schema": {"type": "object",
                                                "required": ["watermarks", "fingerprints"]}}}}}}},
        "/v1/outputs/{id}/binding": {"post": {
            "operationId": "publishOutputBinding", "tags": [_TAG],
            "summary": "A developer publishes an output's prints and manifest (a DSSE "
                       "envelope signed with its key; the primary print must hash to the "
                       "record's logged fingerprint)",
            "parameters": [{"name": "id", "in": "path", "required": True,
                            "schema": {"type": "string", "pattern": "^out_[a-z2-7]{16}$"}}],
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": {"type": "object", "required": ["payload", "payloadType",
                                                          "signatures"]}}}},
            "responses": {"201": {"description": "Stored", "content": {"application/json": {
                "schema": {"type": "object"}}}},
                "403": _problem("Signed by a party that is not the output's developer, or "
                                "the prints are not the logged fingerprint (slug "
                                "policy-denied)"),
                "404": _problem("The output is not in this log"),
                "413": _problem("Over 64 MB"),
                "422": _problem("Malformed publication (slug invalid-statement), or its "
                                "signature does not verify (slug verification-failed)"),
                "503": _UNAVAILABLE}}},
    }
