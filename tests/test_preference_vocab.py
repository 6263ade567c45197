"""The preference vocabularies, read and written from their own texts' examples
(tests/assets/vocab/README.md says where each vector comes from). Pure: no database."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reelrights.core.odrl import parse_policy
from reelrights.errors import BadInput
from reelrights.preferences.aipref import (
    format_aipref,
    format_content_signals,
    parse_aipref,
    parse_content_signals,
)
from reelrights.preferences.categories import Preferences, combine, decide
from reelrights.preferences.embedded import (
    EmbeddedError,
    find_xmp,
    format_iptc_xmp,
    parse_cawg,
    parse_iptc_xmp,
    parse_tdmrep,
)
from reelrights.preferences.project import TARGETS, category_statuses, project
from reelrights.preferences.robots import parse_robots
from reelrights.preferences.rsl import RslError, parse_rsl, preferences_for
from reelrights.preferences.sources import read_source

VOCAB = Path(__file__).parent / "assets" / "vocab"
EXAMPLE = Path(__file__).parents[1] / "src" / "reelrights" / "profile" / "examples" / \
    "license-train-us.json"
_VECTORS = json.loads((VOCAB / "aipref-vocab-vectors.json").read_text())["vectors"]


@pytest.mark.parametrize("vector", _VECTORS, ids=[v["value"] for v in _VECTORS])
def test_aipref_vectors(vector: dict) -> None:
    assert parse_aipref(vector["value"]).to_json() == vector["expect"], vector["from"]
    assert parse_aipref(vector["value"].encode()).to_json() == vector["expect"]


def test_aipref_combining_any_disallow_wins() -> None:
    a, b = parse_aipref("train-ai=y, search=y"), parse_aipref("train-ai=n")
    c = parse_aipref("search=n")
    assert combine([a, b]).to_json() == {"train-ai": "disallowed", "search": "allowed"}
    assert combine([a, b, c]).to_json() == {"train-ai": "disallowed", "search": "disallowed"}
    assert combine([]).to_json() == {}


def test_aipref_written_round_trips() -> None:
    for value in ("train-ai=n", "train-ai=y, search=n"):
        assert format_aipref(parse_aipref(value)) == value
    # categories AIPREF has no label for are not written
    assert format_aipref(Preferences({"ai-input": "disallowed"})) == ""


def test_robots_attach_example_table() -> None:
    """draft-ietf-aipref-attach §3.5: the example file and its table of paths."""
    robots = parse_robots((VOCAB / "robots-aipref-attach.txt").read_bytes())
    assert robots.preferences("/test").to_json() == {"train-ai": "disallowed"}
    assert robots.preferences("/never/test").to_json() == {}   # N/A: not crawlable
    assert robots.preferences("/ai-ok/test").to_json() == {"train-ai": "allowed"}
    assert robots.preferences("/never/test", "ExampleBot/2.1").to_json() == \
        {"train-ai": "allowed"}


def test_robots_longest_path_and_identical_paths_combine() -> None:
    robots = parse_robots("User-agent: *\nContent-Usage: /a/ train-ai=y\n"
                          "content-usage : /a/b/ train-ai=n # comment\n"
                          "Content-Usage: /c/ search=y\nContent-Usage: /c/ search=n\n"
                          "Content-Usage: /d/*.mp4$ train-ai=n\n")
    assert robots.preferences("/a/x").to_json() == {"train-ai": "allowed"}
    assert robots.preferences("/a/b/x").to_json() == {"train-ai": "disallowed"}
    assert robots.preferences("/c/").to_json() == {"search": "disallowed"}
    assert robots.preferences("/d/x/clip.mp4").to_json() == {"train-ai": "disallowed"}
    assert robots.preferences("/d/x/clip.mp4.txt").to_json() == {}


def test_robots_hostile_input_is_bounded() -> None:
    huge = b"User-agent: *\n" + b"Content-Usage: train-ai=n\n" * 40_000  # > 500 KiB
    robots = parse_robots(huge + b"Content-Usage: /x/ train-ai=y\n")
    assert robots.preferences("/x/1").to_json() == {"train-ai": "disallowed"}  # tail not read
    assert parse_robots(b"\xff\xfe garbage\x00").preferences("/").to_json() == {}


def test_content_signals_from_contentsignals_org() -> None:
    robots = parse_robots((VOCAB / "robots-contentsignals.txt").read_text())
    prefs = robots.preferences("/anything")
    assert prefs.to_json() == {"train-ai": "disallowed", "ai-input": "allowed",
                               "search": "allowed"}
    assert format_content_signals(prefs) == "search=yes, ai-input=yes, ai-train=no"
    assert parse_content_signals("search=maybe, ai-train=no").to_json() == \
        {"train-ai": "disallowed"}


def test_rsl_guide_example_with_its_robots_file() -> None:
    contents = parse_rsl((VOCAB / "rsl-guide-ai-preferences.xml").read_bytes())
    prefs = preferences_for(contents, "/article")
    # train-ai is permitted only under a subscription: disallowed without a license
    assert prefs.to_json() == {"train-ai": "disallowed"}
    assert any("subscription" in n for n in prefs.notes)
    robots = parse_robots((VOCAB / "rsl-robots.txt").read_text())
    assert robots.licenses == ["https://your-website.com/license.xml"]


def test_rsl_permits_prohibits_payment_geo_legal() -> None:
    contents = parse_rsl((VOCAB / "rsl-free-search-prohibit-train.xml").read_bytes())
    root = contents[0]
    assert root.copyright == "Northlight Pictures" and root.terms == \
        "https://northlight.example/ai-terms"
    lic = root.licenses[1]
    assert lic.permits == {"usage": ["ai-input"], "geo": ["US", "CA"]}
    assert lic.amounts == [("0.01", "USD")] and lic.legal == [("warranty", "ownership,authority")]
    assert preferences_for(contents, "/films/harbour").to_json() == {
        "train-ai": "disallowed", "search": "allowed", "ai-input": "disallowed"}
    assert preferences_for(contents, "/press/kit.pdf").to_json() == {
        "train-ai": "allowed", "ai-input": "allowed", "search": "allowed", "tdm": "allowed"}


@pytest.mark.parametrize(("doc", "words"), [
    ((VOCAB / "rsl-entity-bomb.xml").read_bytes(), "DTD or entities"),
    (b"<rsl xmlns='https://rslstandard.org/rsl'><content/></rsl>", "no url"),
    (b"<rsl><content url='/'/></rsl>", "not <rsl xmlns"),
    (b"<rsl xmlns='https://rslstandard.org/rsl'><content url='/'><license>"
     b"<permits type='colour'>x</permits></license></content></rsl>", "usage, user or geo"),
    (b"<rsl xmlns='https://rslstandard.org/rsl'>", "not well-formed"),
])
def test_rsl_bad_documents_are_refused(doc: bytes, words: str) -> None:
    with pytest.raises(RslError) as info:
        parse_rsl(doc)
    assert words in str(info.value)


@pytest.mark.parametrize(("name", "expect"), [
    ("iptc-dmi-aimltraining.xmp", {"train-ai": "disallowed"}),
    ("iptc-dmi-except-search.xmp", {"train-ai": "disallowed", "ai-input": "disallowed",
                                    "search": "allowed", "tdm": "disallowed"}),
])
def test_iptc_data_mining(name: str, expect: dict) -> None:
    data = (VOCAB / name).read_bytes()
    media = b"\x89PNG\r\n\x1a\n...binary..." + data + b"...more binary"
    packet = find_xmp(media)
    assert packet is not None
    assert parse_iptc_xmp(packet).to_json() == expect


def test_iptc_written_packet_reads_back() -> None:
    xmp = format_iptc_xmp("DMI-PROHIBITED-SEELINKEDRIGHTSEXPR", other_constraints="derived & lossy",
                          linked_policy="https://studio.example/p.json")
    packet = find_xmp(xmp.encode())
    assert packet is not None
    assert parse_iptc_xmp(packet).to_json() == {"tdm": "disallowed"}
    assert "LinkedRightsExpr>https://studio.example/p.json<" in xmp


def test_cawg_and_the_older_c2pa_label() -> None:
    cawg = json.loads((VOCAB / "cawg-training-mining.json").read_text())
    prefs = parse_cawg(cawg)
    assert prefs.to_json() == {"train-ai": "disallowed", "ai-input": "disallowed",
                               "tdm": "disallowed"}
    assert any("end in 'y'" in n for n in prefs.notes)     # constrained keeps its info
    assert parse_cawg(cawg["data"]).to_json() == prefs.to_json()
    legacy = json.loads((VOCAB / "c2pa-training-mining-legacy.json").read_text())
    assert parse_cawg(legacy).to_json() == {"train-ai": "disallowed", "ai-input": "allowed",
                                            "tdm": "allowed"}


def test_tdmrep_first_matching_rule() -> None:
    rules = json.loads((VOCAB / "tdmrep.json").read_text())
    assert parse_tdmrep(rules, "/images/a.jpg").to_json() == {"tdm": "disallowed"}
    assert "https://provider.com/policies/policy.json" in parse_tdmrep(rules, "/images/a").notes[0]
    assert parse_tdmrep(rules, "/text/a.html").to_json() == {"tdm": "allowed"}


@pytest.mark.parametrize(("prefs", "action", "denied"), [
    ({"train-ai": "disallowed"}, "train", True),
    ({"train-ai": "disallowed"}, "fineTune", True),
    ({"train-ai": "disallowed"}, "style", True),        # a style may be learned
    ({"train-ai": "disallowed"}, "ground", False),
    ({"ai-input": "disallowed"}, "ground", True),
    ({"ai-input": "disallowed"}, "style", True),        # or given at generation time
    ({"ai-input": "disallowed"}, "train", False),
    ({"tdm": "disallowed"}, "generate", True),          # every automated use
    ({"tdm": "disallowed", "train-ai": "allowed"}, "train", False),   # the specific wins
    ({"search": "disallowed"}, "train", False),
])
def test_decide_by_the_mapping_table(prefs: dict, action: str, denied: bool) -> None:
    assert decide(Preferences(prefs), action)[0] is denied


def test_projections_of_the_example_policy_are_marked_and_read_back() -> None:
    policy = parse_policy(json.loads(EXAMPLE.read_text()))
    assert category_statuses(policy) == {"train-ai": "constrained", "ai-input": "constrained",
                                         "tdm": "notAllowed"}
    url = "https://studio.example/p.json"
    texts = {t: project(policy, t, policy_url=url)[1] for t in TARGETS}
    for t, text in texts.items():
        assert policy.uid in text or url in text, t
    # each written form, read back, refuses training without a license (the Agreement governs)
    for t, fmt in [("aipref", "robots.txt"), ("content-signals", "robots.txt"), ("rsl", "rsl"),
                   ("iptc", "iptc-xmp"), ("cawg", "cawg"), ("tdmrep", "tdmrep")]:
        read = read_source(texts[t].encode(), fmt=fmt).preferences
        assert decide(read, "train")[0], (t, read)
    with pytest.raises(BadInput):
        project(policy, "odrl2")


def test_an_open_set_projects_to_allow() -> None:
    policy = parse_policy({"@context": ["http://www.w3.org/ns/odrl.jsonld",
                                        "https://reelrights.dev/odrl/profile/v1/context.jsonld"],
                           "@type": "Set", "uid": "https://studio.example/open",
                           "profile": "https://reelrights.dev/odrl/profile/v1",
                           "permission": [{"target": "urn:reelrights:bundle:bnd_aaaaaaaaaaaaaaaa",
                                           "action": "use"}]})
    assert project(policy, "aipref")[1].splitlines()[-1] == "Content-Usage: train-ai=y"
    assert "ai-train=yes" in project(policy, "content-signals")[1]
    assert "DMI-ALLOWED" in project(policy, "iptc")[1]
    read = read_source(project(policy, "rsl")[1].encode(), fmt="rsl").preferences
    assert read.get("train-ai") == "allowed" and read.get("ai-input") == "allowed"


# -- fetching a URL: real HTTPS on 127.0.0.1 ----------------------------------------------------

def _tls_server(tmp_path: Path, routes: dict[str, tuple[int, dict[str, str], bytes]]):
    """A real HTTPS server on 127.0.0.1:0 with a fresh self-signed certificate for 127.0.0.1."""
    import datetime
    import ipaddress
    import ssl
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            status, headers, body = routes.get(self.path, (404, {}, b"no"))
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert_path, key_path)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, str(cert_path)


def test_fetch_https_reads_a_real_server_within_its_limits(tmp_path: Path) -> None:
    from reelrights.preferences.sources import fetch_https, fetch_https_response

    robots = (VOCAB / "robots-aipref-attach.txt").read_bytes()
    server, ca = _tls_server(tmp_path, {
        "/robots.txt": (200, {}, robots),
        "/big": (200, {}, b"x" * 5000),
        "/moved": (302, {"Location": "http://127.0.0.1/robots.txt"}, b""),
        "/clip.mp4": (200, {"Content-Usage": "train-ai=n"}, b"\x00\x00\x00\x18ftypmp42"),
        "/still.jpg": (200, {"Content-Usage": "search=y"},
                       b"\xff\xd8" + (VOCAB / "iptc-dmi-aimltraining.xmp").read_bytes()),
        "/robots-with-header.txt": (200, {"Content-Usage": "train-ai=y"}, robots),
    })
    base = f"https://127.0.0.1:{server.server_address[1]}"
    try:
        assert fetch_https(base + "/robots.txt", allow_private=True, cafile=ca) == robots
        with pytest.raises(BadInput, match="larger than 1000 bytes"):
            fetch_https(base + "/big", allow_private=True, cafile=ca, max_bytes=1000)
        with pytest.raises(BadInput, match="HTTP 302"):   # redirects are not followed
            fetch_https(base + "/moved", allow_private=True, cafile=ca)
        with pytest.raises(BadInput, match="cannot fetch"):  # an unknown certificate
            fetch_https(base + "/robots.txt", allow_private=True)
        with pytest.raises(BadInput, match="non-public"):    # the CLI's default
            fetch_https(base + "/robots.txt", cafile=ca)
        # the Content-Usage header is about the content it came with (attach §2)
        body, header = fetch_https_response(base + "/clip.mp4", allow_private=True, cafile=ca)
        assert header == "train-ai=n"
        got = read_source(body, name="clip.mp4", content_usage=header)
        assert got.format == "content-usage" and got.preferences.to_json() == \
            {"train-ai": "disallowed"}
        body, header = fetch_https_response(base + "/still.jpg", allow_private=True, cafile=ca)
        assert read_source(body, content_usage=header).preferences.to_json() == \
            {"train-ai": "disallowed", "search": "allowed"}
        body, header = fetch_https_response(base + "/robots-with-header.txt",
                                            allow_private=True, cafile=ca)
        # a header on robots.txt is about robots.txt itself, not the works it lists
        assert read_source(body, name="robots.txt", content_usage=header,
                           path="/test").preferences.to_json() == {"train-ai": "disallowed"}
    finally:
        server.shutdown()


# -- hostile input never escapes as anything but a typed refusal ---------------------------------

_PREFISH = st.text(alphabet=st.sampled_from(list("train-aisech=yn,;\"?* \t/#:\x00é")), max_size=60)


@given(st.one_of(st.binary(max_size=200), _PREFISH))
def test_aipref_parsing_never_fails(value: bytes | str) -> None:
    prefs = parse_aipref(value)
    assert set(prefs.to_json()) <= {"train-ai", "search", "ai-input", "tdm"}
    assert set(prefs.to_json().values()) <= {"allowed", "disallowed"}


@given(st.lists(st.one_of(_PREFISH, st.sampled_from(
    ["User-Agent: *", "Allow: /", "Disallow: /x", "Content-Usage: /a train-ai=n",
     "Content-Signal: ai-train=no", "User-agent: bot"])), max_size=12),
       st.sampled_from(["/", "/a", "/x/y", "/a/b$"]))
def test_robots_parsing_never_fails(lines: list[str], path: str) -> None:
    parse_robots("\n".join(lines)).preferences(path)


@given(st.binary(max_size=300))
def test_rsl_and_xmp_refuse_garbage_with_their_own_errors(data: bytes) -> None:
    with contextlib.suppress(RslError):
        parse_rsl(data)
    with contextlib.suppress(EmbeddedError):
        parse_iptc_xmp(data)
