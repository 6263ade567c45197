"""The visibility matrix enforced over real HTTP, on SQLite and PostgreSQL.

Every read route of the service has a row of the matrix (the test is generated from the route
table and the matrix, so a new route without one fails), and every (record route, role) pair of
the matrix is walked with a party who holds that role in the story (visibility_story.py): the
answer is exactly the fields the matrix gives her roles, nothing else. Then the attacks: another
party's license terms, royalty lines and consent details; a signature replayed, for another
request, stale, by a key that is not the claimed party's; anonymous reads of private data; and
one nonce across two server processes on one database.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator

import httpx
import pytest
from visibility_story import RECORDS, SEALED_VIEWERS, VIEWERS, Story, story_home

from reelrights.access.http_signing import sign_request
from reelrights.access.matrix import FIELDS, MATRIX, ROLES, visible_fields
from reelrights.access.records import ID_PREFIXES, KEY_PATTERNS, LOADERS
from reelrights.api import ServiceConfig, create_app
from reelrights.api.operations import SERVICE_ROUTES
from reelrights.api.reads import LOOKUPS, route_kinds
from reelrights.api.softbinding import READ_ROUTES as SOFT_BINDING_READS
from reelrights.client import Client
from reelrights.client.http import SignedReads
from reelrights.core.sealed_disclosure import verify_disclosure
from reelrights.core.statements import key_id_for
from reelrights.errors import NotVisible, SignatureMissing, UnknownKey
from reelrights.keys import PartyKey
from reelrights.sealed.store import stored_leaves


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def story(request: pytest.FixtureRequest,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    yield from story_home(request.param, tmp_path_factory.mktemp(f"vis-{request.param}"))


def _get(story: Story, path: str, who: str | None = None, **kw: object) -> httpx.Response:
    auth = None if who is None else SignedReads(story.key(who))
    return httpx.get(story.url + path, auth=auth, timeout=30, **kw)  # type: ignore[arg-type]


def _path(story: Story, kind: str) -> str:
    collection = next(c for c, k in LOOKUPS.items() if k == kind)
    return f"/v1/{collection}/{story.ids[RECORDS[kind]]}"


def _problem(r: httpx.Response, status: int, slug: str) -> dict:
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["type"].endswith("/" + slug), body
    return body


# -- the route table against the matrix --------------------------------------------------------
def test_every_read_route_has_a_row_of_the_matrix(tmp_path) -> None:
    """Each GET route of the application is a record kind or the public log/service: a route
    added without a row (or without a kind) fails here."""
    from reelrights.home import Home

    home, _ = Home.init(tmp_path / "home")
    app = create_app(ServiceConfig(home=home.path))
    kinds = {**route_kinds(), **dict.fromkeys(SERVICE_ROUTES, "service"),
             **dict.fromkeys(SOFT_BINDING_READS, "provenance")}
    # The web pages (include_in_schema=False) render HTML through the same read_visible
    # (tests/web/test_sign_in_attacks.py::test_pages_show_private_facts_only_to_their_parties).
    gets = [r.path for r in app.routes if "GET" in (getattr(r, "methods", None) or ())
            and getattr(r, "include_in_schema", True)]
    assert gets and all(p in kinds for p in gets), sorted(set(gets) - set(kinds))
    assert set(kinds) == set(gets)
    for path, kind in kinds.items():
        assert kind in MATRIX, f"{path} serves {kind}, which has no row in the matrix"
        assert set(MATRIX[kind]) <= set(ROLES) and "public" in MATRIX[kind]
        for role, fields in MATRIX[kind].items():
            assert fields <= FIELDS[kind], (kind, role, sorted(fields - FIELDS[kind]))
    assert set(LOOKUPS.values()) == set(LOADERS) == set(ID_PREFIXES) | set(KEY_PATTERNS)
    assert set(LOADERS) <= set(MATRIX)
    for kind in ("log", "service", "provenance"):
        assert MATRIX[kind] == {"public": frozenset({"*"})}


def test_every_record_carries_only_fields_the_matrix_knows(story: Story) -> None:
    for kind, label in RECORDS.items():
        record = LOADERS[kind](story.ledger.db, story.ledger.log, story.ids[label])
        assert set(record) <= FIELDS[kind], (kind, sorted(set(record) - FIELDS[kind]))


def test_the_story_has_a_reader_for_every_route_and_role(story: Story) -> None:
    for kind in LOOKUPS.values():
        assert set(VIEWERS[kind]) == set(MATRIX[kind]), kind


# -- the walk ----------------------------------------------------------------------------------
def _walk_pairs() -> list[tuple[str, str]]:
    return [(kind, role) for kind in LOOKUPS.values() for role in MATRIX[kind]]


@pytest.mark.parametrize("kind,role", _walk_pairs(), ids=[f"{k}-{r}" for k, r in _walk_pairs()])
def test_each_route_and_role_sees_exactly_its_fields(story: Story, kind: str, role: str) -> None:
    who = VIEWERS[kind][role]
    r = _get(story, _path(story, kind), who)
    assert r.status_code == 200, (r.status_code, r.text)
    roles = set(r.headers["reelrights-roles"].split(","))
    assert role in roles and "public" in roles
    if who is None:
        assert roles <= {"public", "public_aggregate"}
    record = LOADERS[kind](story.ledger.db, story.ledger.log, story.ids[RECORDS[kind]])
    seen = visible_fields(kind, roles)
    assert r.json() == {k: v for k, v in record.items() if k in seen}
    withheld = sorted(set(record) - seen)
    assert r.headers.get("reelrights-withheld", "") == ",".join(withheld)
    assert r.headers["cache-control"] == "private, no-store"


@pytest.mark.parametrize("kind", sorted(set(LOOKUPS.values())))
def test_an_outsider_sees_only_what_the_public_sees(story: Story, kind: str) -> None:
    """A party with no role in the record reads what anyone reads (or is refused where the
    public sees nothing) signed or not."""
    from reelrights.access.roles import roles_of
    from reelrights.access.viewer import ANONYMOUS

    record = LOADERS[kind](story.ledger.db, story.ledger.log, story.ids[RECORDS[kind]])
    with story.ledger.db.read() as conn:
        anyone = roles_of(conn, ANONYMOUS, kind, record)
    public = {k: v for k, v in record.items() if k in visible_fields(kind, anyone)}
    for who in (None, "outsider"):
        r = _get(story, _path(story, kind), who)
        if public:
            assert r.status_code == 200 and r.json() == public, (kind, who, r.text)
        elif who is None:
            _problem(r, 401, "signature-missing")
        else:
            _problem(r, 403, "not-visible")


# -- attacks -----------------------------------------------------------------------------------
def test_party_b_cannot_read_party_as_license_terms(story: Story) -> None:
    """studio2 licensed its own bundle to the same developer; the film's license is not hers."""
    r = _get(story, _path(story, "license"), "studio2")
    assert r.status_code == 200
    assert "policy" not in r.json() and "policy_uid" not in r.json()
    assert set(r.headers["reelrights-withheld"].split(",")) == {"policy", "policy_uid"}
    assert "fundShare" not in r.text and "rr:fundShare" not in r.text
    own = _get(story, f"/v1/licenses/{story.ids['lic2']}", "studio2").json()
    assert own["policy"]["uid"] == "urn:reelrights:policy:lic2"


def test_party_b_cannot_read_royalty_lines_or_revenue_rows(story: Story) -> None:
    for kind in ("royalty_statement", "revenue_report"):
        for who in ("writer", "studio2", "dev", "guild"):
            r = _get(story, _path(story, kind), who)
            if r.status_code == 403:
                _problem(r, 403, "not-visible")
                continue
            assert r.status_code == 200
            body = r.json()
            assert not {"document", "rows", "totals", "rows_sha256", "file"} & set(body), body
            assert "156.25" not in r.text and "1234567" not in r.text


def test_fund_totals_are_public_only_where_three_productions_contribute(story: Story) -> None:
    busy = _get(story, f"/v1/fund-totals/{story.ids['quarter_busy']}")
    assert busy.status_code == 200 and busy.json()["productions"] == 3
    assert busy.json()["totals"] and "by_production" not in busy.json()
    quiet = f"/v1/fund-totals/{story.ids['quarter_quiet']}"
    for who in (None, "outsider", "studio", "performer"):
        r = _get(story, quiet, who)
        assert r.status_code == 200 and r.json() == {"period": "2027-Q1", "productions": 1}, who
        assert r.headers["reelrights-withheld"] == "by_production,totals"
    fund = _get(story, quiet, "fund").json()
    assert fund["totals"] and fund["by_production"][0]["production"] == story.ids["production"]
    assert _get(story, "/v1/fund-totals/2027-Q5").status_code == 404


def test_party_b_cannot_read_consent_details(story: Story) -> None:
    r = _get(story, _path(story, "consent"), "writer")
    assert r.status_code == 200
    assert not {"description", "compensation_ref", "territory", "kinds"} & set(r.json())
    assert "SAG-2026-0042" not in r.text and "Mara Ellison" not in r.text


def test_anonymous_reads_of_private_records_are_projected(story: Story) -> None:
    """Unsigned, a private record is its public projection; the header names what signing as
    the right party would add."""
    r = _get(story, _path(story, "royalty_statement"))
    assert r.status_code == 200 and r.headers["reelrights-roles"] == "public"
    assert {"document", "totals"} <= set(r.headers["reelrights-withheld"].split(","))
    assert set(r.json()) == {"id", "fund", "party", "period", "log_index", "issued_at"}


def test_a_record_with_nothing_public_is_401_unsigned_and_403_to_a_stranger() -> None:
    """Where the public sees nothing (a kind whose row says so), the unsigned reader is told to
    sign (401) and a signed stranger is refused (403); the service answers with the headers
    RFC 9110 and RFC 9421 name."""
    from reelrights.access.viewer import ANONYMOUS, Viewer
    from reelrights.access.visibility import project
    from reelrights.api.problems import problem_for

    matrix = {"secret": {"public": frozenset(), "payee": frozenset({"id", "amount"})}}
    record = {"id": "fst_x", "amount": 7}
    with pytest.raises(SignatureMissing, match="not public; sign the request") as missing:
        project("secret", record, frozenset({"public"}), ANONYMOUS, "fst_x", matrix)
    with pytest.raises(NotVisible, match="visible to its payee only"):
        project("secret", record, frozenset({"public"}), Viewer(party="pty_b"), "fst_x", matrix)
    seen = project("secret", record, frozenset({"public", "payee"}), Viewer(party="pty_a"),
                   "fst_x", matrix)
    assert seen.fields == record and seen.withheld == ()
    problem = problem_for(missing.value)
    assert (problem.status, problem.slug) == (401, "signature-missing")
    assert problem.headers["WWW-Authenticate"].startswith("Signature")
    assert problem.headers["Accept-Signature"].startswith('reelrights=("@method"')


def _signed_headers(story: Story, who: str, path: str, *, created: int | None = None,
                    key: PartyKey | None = None, key_id: str | None = None,
                    registry: str | None = None) -> dict[str, str]:
    key = key or story.key(who)
    host = story.url.split("://", 1)[1]
    return {"host": host, **sign_request(
        "GET", story.url + path, [("host", host)], b"", sign=key.sign, created=created,
        key_id=key_id or key_id_for(key.public_key_bytes), registry=registry or story.registry)}


def test_a_replayed_signature_is_refused(story: Story) -> None:
    path = _path(story, "royalty_statement")
    headers = _signed_headers(story, "performer", path)
    first = httpx.get(story.url + path, headers=headers, timeout=30)
    assert first.status_code == 200 and "document" in first.json()
    body = _problem(httpx.get(story.url + path, headers=headers, timeout=30), 401,
                    "signature-replayed")
    assert "already used" in body["detail"]


def test_a_signature_for_another_request_is_refused(story: Story) -> None:
    mine = f"/v1/licenses/{story.ids['lic2']}"
    headers = _signed_headers(story, "dev", mine)
    body = _problem(httpx.get(story.url + _path(story, "license"), headers=headers, timeout=30),
                    401, "signature-invalid")
    assert "does not verify" in body["detail"]
    # ... and the refused request did not spend the nonce: the signed request still works.
    assert httpx.get(story.url + mine, headers=headers, timeout=30).status_code == 200


def test_a_key_that_is_not_the_claimed_partys_is_refused(story: Story) -> None:
    path = _path(story, "royalty_statement")
    performer_id = key_id_for(story.key("performer").public_key_bytes)
    forged = _signed_headers(story, "performer", path, key=PartyKey.generate(),
                             key_id=performer_id)
    _problem(httpx.get(story.url + path, headers=forged, timeout=30), 401, "signature-invalid")
    stranger = _signed_headers(story, "performer", path, key=PartyKey.generate())
    body = _problem(httpx.get(story.url + path, headers=stranger, timeout=30), 401,
                    "signature-unknown-key")
    assert "no registered party's key" in body["detail"]
    # Another real party's key, claiming to be the performer: invalid, not the performer.
    studio = story.key("studio")
    lying = _signed_headers(story, "performer", path, key=studio, key_id=performer_id)
    _problem(httpx.get(story.url + path, headers=lying, timeout=30), 401, "signature-invalid")


def test_a_read_signed_for_another_registry_is_refused(story: Story) -> None:
    """A party using one key with two registries: a read signed for the other one, replayed
    here with this Host, is refused."""
    path = _path(story, "royalty_statement")
    headers = _signed_headers(story, "performer", path, registry="rr_another0registry")
    body = _problem(httpx.get(story.url + path, headers=headers, timeout=30), 401,
                    "signature-invalid")
    assert "not this one" in body["detail"]


def test_stale_and_future_signatures_are_refused(story: Story) -> None:
    path = _path(story, "consent")
    for created in (int(time.time()) - 120, int(time.time()) + 120):
        headers = _signed_headers(story, "performer", path, created=created)
        body = _problem(httpx.get(story.url + path, headers=headers, timeout=30), 401,
                        "signature-stale")
        assert "more than 60 s apart" in body["detail"]


def test_a_bad_signature_on_a_public_record_is_refused_not_downgraded(story: Story) -> None:
    path = _path(story, "work")
    headers = _signed_headers(story, "studio", path)
    headers["Signature"] = headers["Signature"][:20] + "AAAA" + headers["Signature"][24:]
    _problem(httpx.get(story.url + path, headers=headers, timeout=30), 401, "signature-invalid")
    assert httpx.get(story.url + path, timeout=30).status_code == 200  # unsigned: public


def test_the_client_signs_with_its_party_key(story: Story) -> None:
    path_kind = "royalty_statement"
    ref = story.ids[RECORDS[path_kind]]
    with Client(story.url, key=story.key("performer")) as client:
        doc = client.lookup("royalty-statements", ref)
        assert doc["party"] == story.ids["performer"] and doc["document"]["lines"]
        assert client.lookup("royalty-statements", ref) == doc  # a fresh nonce each time
        log = client.log_info()
        assert log.size > 0
    for key in (story.key("studio2"), None):
        with Client(story.url, key=key) as client:
            assert "document" not in client.lookup("royalty-statements", ref)
    stranger = PartyKey.generate()
    with Client(story.url, key=stranger, retries=0) as client, \
            pytest.raises(UnknownKey, match="no registered party's key"):
        client.lookup("royalty-statements", ref)


def test_the_operator_sees_everything(story: Story) -> None:
    for kind in LOOKUPS.values():
        r = _get(story, _path(story, kind), "operator")
        assert r.status_code == 200 and "operator" in r.headers["reelrights-roles"]
        assert "reelrights-withheld" not in r.headers


def test_nonces_are_pruned_once_expired(story: Story) -> None:
    from reelrights.access.nonces import NonceBook

    book = NonceBook(story.ledger.db)
    key = secrets.token_hex(8)
    book.use(key, "n" * 22, expires_at=int(time.time()) + 61)
    assert book.count() >= 1
    book._pruned = 0.0
    book.use(key, "m" * 22, expires_at=int(time.time()) + 10_000, now=time.time() + 3600)
    assert book.count() == 1  # every earlier row had expired an hour later


def test_a_nonce_used_on_one_server_process_is_refused_by_another(story: Story) -> None:
    """Two ``reelrights serve`` processes on one database (as behind one load balancer, which
    passes the same Host): the nonce one accepted, the other refuses; a fresh one both take."""
    from service_kit import start_server

    servers = [start_server(story.home, open_appends=False) for _ in range(2)]
    try:
        path = _path(story, "royalty_statement")
        host = "registry.example.org"
        key = story.key("performer")

        def signed() -> dict[str, str]:
            return {"host": host, **sign_request(
                "GET", f"https://{host}{path}", [("host", host)], b"", sign=key.sign,
                key_id=key_id_for(key.public_key_bytes), registry=story.registry)}

        headers = signed()
        first = httpx.get(servers[0].url + path, headers=headers, timeout=30)
        assert first.status_code == 200 and "document" in first.json()
        body = _problem(httpx.get(servers[1].url + path, headers=headers, timeout=30), 401,
                        "signature-replayed")
        assert "already used" in body["detail"]
        for server in reversed(servers):
            assert httpx.get(server.url + path, headers=signed(), timeout=30).status_code == 200
    finally:
        for server in servers:
            assert server.stop() == 0


# -- sealed bodies: GET /v1/sealed/<id>, the matrix's sealed_body row ----------------------------
def _sealed_pairs() -> list[tuple[str, str]]:
    return [(label, role) for label, roles in SEALED_VIEWERS.items() for role in roles]


def test_the_story_has_a_reader_for_every_sealed_body_role() -> None:
    covered = {role for roles in SEALED_VIEWERS.values() for role in roles}
    # public: refused below (the public fields are the log's); disclosure_recipient: a grant
    assert covered | {"public", "disclosure_recipient"} == set(MATRIX["sealed_body"])
    assert all("body" in MATRIX["sealed_body"][r] for r in covered)


@pytest.mark.parametrize("label,role", _sealed_pairs(),
                         ids=[f"{k}-{r}" for k, r in _sealed_pairs()])
def test_each_sealed_body_role_reads_every_leaf(story: Story, label: str, role: str) -> None:
    """Fund terms: the licensor, the fund, a payee, the operator; an audit response: the run's
    developer, the challenge's auditor, the operator. Each gets a disclosure of every leaf,
    checked from the log's key alone."""
    r = _get(story, f"/v1/sealed/{story.ids[label]}", SEALED_VIEWERS[label][role])
    assert r.status_code == 200, (r.status_code, r.text)
    assert role in r.headers["reelrights-roles"].split(",")
    assert r.headers["cache-control"] == "private, no-store"
    report = verify_disclosure(r.json(), story.home.log_vkey())
    with story.ledger.db.read() as conn:
        leaves = stored_leaves(conn, story.ids[label])
    assert leaves and report.fields == {leaf.path: leaf.value for leaf in leaves}


def test_sealed_bodies_are_refused_to_the_public_and_to_strangers(story: Story) -> None:
    strangers = {"terms": ("outsider", "dev", "auditor"),
                 "opened": ("outsider", "performer", "studio", "fund")}
    for label, who in strangers.items():
        path = f"/v1/sealed/{story.ids[label]}"
        _problem(_get(story, path), 401, "signature-missing")
        for party in who:
            r = _get(story, path, party)
            _problem(r, 403, "not-visible")
            assert "leaves" not in r.text and "salt" not in r.text


def test_a_disclosure_recipient_reads_exactly_the_granted_leaves(story: Story) -> None:
    ref = story.ids["terms"]
    with Client(story.url, retries=0) as client:
        out = client.sealed_grant(ref, story.ids["studio2"], ["/body/contributors_share"],
                                  story.key("studio"))
        assert out["fields"] == ["/body/contributors_share"]
    r = _get(story, f"/v1/sealed/{ref}", "studio2")
    assert r.status_code == 200 and "disclosure_recipient" in r.headers["reelrights-roles"]
    report = verify_disclosure(r.json(), story.home.log_vkey())
    assert report.fields == {"/body/contributors_share": "40"}  # not the basis
    more = _get(story, f"/v1/sealed/{ref}?fields=/body/basis", "studio2")
    _problem(more, 403, "not-visible")
    _problem(_get(story, f"/v1/sealed/{story.ids['opened']}", "studio2"), 403, "not-visible")


def test_sealed_reads_refuse_replayed_and_stale_signatures(story: Story) -> None:
    path = f"/v1/sealed/{story.ids['terms']}"
    headers = _signed_headers(story, "fund", path)
    assert httpx.get(story.url + path, headers=headers, timeout=30).status_code == 200
    _problem(httpx.get(story.url + path, headers=headers, timeout=30), 401, "signature-replayed")
    for created in (int(time.time()) - 120, int(time.time()) + 120):
        stale = _signed_headers(story, "fund", path, created=created)
        _problem(httpx.get(story.url + path, headers=stale, timeout=30), 401, "signature-stale")


def test_docs_visibility_names_every_kind_and_role_of_the_matrix() -> None:
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "visibility.md").read_text("utf-8")
    for kind, row in MATRIX.items():
        heading = f"\n### {kind}"
        assert heading in doc, f"docs/visibility.md has no section for {kind}"
        section = doc.split(heading, 1)[1].split("\n### ", 1)[0]
        for role in row:
            assert role in section, f"docs/visibility.md, {kind}: role {role} not named"
    for role in ROLES:
        assert f"`{role}`" in doc, role
