"""probe_file / sha256_file on real generated media, decoded with the real PyAV."""

from __future__ import annotations

import hashlib
import math
import os
from pathlib import Path

import av
import pytest
from pypdf import PdfWriter

from reelrights.errors import BadInput, NotFound
from reelrights.media.probe import (
    FOUNTAIN_TYPE,
    LINES_PER_PAGE,
    AssetFacts,
    probe_file,
    sha256_file,
)
from reelrights.media.synth import make_audio, make_image, make_script, make_video


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One directory of generated media shared by the tests below (read-only for them)."""
    d = tmp_path_factory.mktemp("probe-media")
    make_video(d / "clip.mp4", seconds=4.0, fps=24, size=(320, 240))
    make_video(d / "clip.mov", seconds=2.5, fps=30, size=(160, 120), with_audio=True, seed=1)
    make_video(d / "clip.mkv", seconds=3.0, fps=25, size=(240, 136), with_audio=True, seed=2)
    make_audio(d / "tune.wav", seconds=3.0)
    make_audio(d / "tune.m4a", seconds=2.0, sample_rate=48000)
    make_audio(d / "tune.flac", seconds=1.5)
    make_script(d / "pilot.fountain", title="Night Ferry", author="A. Writer", scenes=6)
    make_image(d / "still.png", size=(200, 120))
    make_image(d / "still.jpg", size=(64, 48))
    return d


def _remux(src: Path, dst: Path, **options: str) -> Path:
    """Copy the streams of src into dst without re-encoding (container follows dst's extension)."""
    with av.open(str(src)) as inp, av.open(str(dst), "w", options=options) as out:
        streams = {s.index: out.add_stream_from_template(s) for s in inp.streams if s.type in ("video", "audio")}
        for packet in inp.demux():
            if packet.dts is not None and packet.stream.index in streams:
                packet.stream = streams[packet.stream.index]
                out.mux(packet)
    return dst


# --- hashing -------------------------------------------------------------------------------------


def test_sha256_file_matches_hashlib_on_multi_mib_file(tmp_path: Path) -> None:
    data = os.urandom(3 * (1 << 20) + 12345)  # not a multiple of the chunk size
    f = tmp_path / "big.bin"
    f.write_bytes(data)
    expected = hashlib.sha256(data).hexdigest()
    assert sha256_file(f) == (expected, len(data))
    assert sha256_file(f, chunk=4093) == (expected, len(data))
    facts = probe_file(f)
    assert (facts.sha256, facts.size) == (expected, len(data))


def test_same_content_same_hash_and_one_changed_byte_differs(tmp_path: Path) -> None:
    data = bytearray(os.urandom(2 * (1 << 20)))
    a, b, c = tmp_path / "a.bin", tmp_path / "copy-of-a.dat", tmp_path / "c.bin"
    a.write_bytes(data)
    b.write_bytes(data)
    data[1 << 20] ^= 0x01
    c.write_bytes(data)
    assert sha256_file(a) == sha256_file(b)
    assert sha256_file(a)[0] != sha256_file(c)[0]
    assert sha256_file(a)[1] == sha256_file(c)[1]
    assert sha256_file(a)[0] == sha256_file(a)[0].lower()


# --- video and audio -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "media_type", "seconds", "fps", "size"),
    [
        ("clip.mp4", "video/mp4", 4.0, 24, (320, 240)),
        ("clip.mov", "video/quicktime", 2.5, 30, (160, 120)),
        ("clip.mkv", "video/x-matroska", 3.0, 25, (240, 136)),
    ],
)
def test_video_type_duration_and_size(media: Path, name: str, media_type: str, seconds: float, fps: int,
                                      size: tuple[int, int]) -> None:  # fmt: skip
    facts = probe_file(media / name)
    assert facts.media_type == media_type
    assert facts.category == "video"
    assert abs(facts.duration_ms - seconds * 1000) <= 1000 / fps  # within one frame
    assert (facts.width, facts.height) == size
    assert facts.pages is None and facts.lines is None


@pytest.mark.parametrize(
    ("name", "media_type", "seconds"),
    [("tune.wav", "audio/wav", 3.0), ("tune.m4a", "audio/mp4", 2.0), ("tune.flac", "audio/flac", 1.5)],
)
def test_audio_type_and_duration(media: Path, name: str, media_type: str, seconds: float) -> None:
    facts = probe_file(media / name)
    assert facts.media_type == media_type
    assert facts.category == "audio"
    assert abs(facts.duration_ms - seconds * 1000) <= 10
    assert facts.width is None and facts.height is None


def test_mp3_when_the_encoder_exists(tmp_path: Path) -> None:
    try:
        av.codec.Codec("libmp3lame", "w")
    except av.codec.codec.UnknownCodecError:
        pytest.skip("this PyAV build has no MP3 encoder")
    facts = probe_file(make_audio(tmp_path / "tune.mp3", seconds=2.0))
    assert (facts.media_type, facts.category) == ("audio/mpeg", "audio")
    assert abs(facts.duration_ms - 2000) <= 60  # MP3 durations are estimated to about a frame


def test_audio_only_mp4_is_audio_mp4(media: Path, tmp_path: Path) -> None:
    dst = _remux(media / "tune.m4a", tmp_path / "tune.mp4")  # an "isom" brand, not "M4A "
    assert dst.read_bytes()[8:12] != b"M4A "
    facts = probe_file(dst)
    assert (facts.media_type, facts.category) == ("audio/mp4", "audio")
    assert facts.width is None


def test_magic_bytes_beat_the_extension(media: Path, tmp_path: Path) -> None:
    wav_named_mp4 = tmp_path / "mislabelled.mp4"
    wav_named_mp4.write_bytes((media / "tune.wav").read_bytes())
    assert probe_file(wav_named_mp4).media_type == "audio/wav"
    mkv_named_txt = tmp_path / "clip.txt"
    mkv_named_txt.write_bytes((media / "clip.mkv").read_bytes())
    assert probe_file(mkv_named_txt).media_type == "video/x-matroska"


def test_to_json_has_only_the_facts_that_apply(media: Path) -> None:
    doc = probe_file(media / "clip.mp4").to_json()
    assert set(doc) == {"sha256", "size", "media_type", "category", "duration_ms", "width", "height"}
    assert doc["size"] == (media / "clip.mp4").stat().st_size
    assert doc["sha256"] == hashlib.sha256((media / "clip.mp4").read_bytes()).hexdigest()
    assert set(probe_file(media / "pilot.fountain").to_json()) == {"sha256", "size", "media_type", "category",
                                                                   "pages", "lines"}  # fmt: skip


# --- damaged and unusable files ------------------------------------------------------------------


def test_truncated_mp4_is_bad_input_naming_the_file(media: Path, tmp_path: Path) -> None:
    data = (media / "clip.mp4").read_bytes()
    cut = tmp_path / "cut-trailer.mp4"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(BadInput, match="cut-trailer.mp4") as err:
        probe_file(cut)
    assert "\n" not in str(err.value)


def test_truncated_faststart_mp4_and_mkv_are_bad_input(media: Path, tmp_path: Path) -> None:
    """Their headers survive the cut, so only the demuxed data shows it."""
    faststart = _remux(media / "clip.mp4", tmp_path / "faststart.mp4", movflags="faststart")
    data = faststart.read_bytes()
    assert 0 < data.find(b"moov") < data.find(b"mdat")  # the index comes first, so half a file keeps it
    assert probe_file(faststart).duration_ms == 4000
    for src in (faststart, media / "clip.mkv"):
        data = src.read_bytes()
        cut = tmp_path / f"half-{src.name}"
        cut.write_bytes(data[: len(data) // 2])
        with pytest.raises(BadInput, match=f"half-{src.name}.*truncated"):
            probe_file(cut)


def test_random_bytes_named_mp4_are_bad_input(tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(os.urandom(100_000).replace(b"\xff", b"\x00"))  # no accidental MPEG frame sync
    with pytest.raises(BadInput, match=r"junk\.mp4: not a readable video or audio file \(PyAV: "):
        probe_file(junk)


def test_broken_png_and_pdf_are_bad_input(media: Path, tmp_path: Path) -> None:
    png = tmp_path / "cut.png"
    png.write_bytes((media / "still.png").read_bytes()[:40])
    with pytest.raises(BadInput, match="cut.png"):
        probe_file(png)
    pdf = tmp_path / "fake.pdf"
    pdf.write_bytes(b"%PDF-1.7\nthis is not a pdf body\n")
    with pytest.raises(BadInput, match="fake.pdf: not a readable PDF"):
        probe_file(pdf)


def test_empty_file_is_bad_input(tmp_path: Path) -> None:
    empty = tmp_path / "empty.mov"
    empty.touch()
    with pytest.raises(BadInput, match="empty.mov: the file is empty") as err:
        probe_file(empty)
    assert type(err.value) is BadInput


def test_missing_file_is_not_found_and_directory_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="nowhere.mp4"):
        probe_file(tmp_path / "nowhere.mp4")
    with pytest.raises(NotFound):
        sha256_file(tmp_path / "nowhere.mp4")
    with pytest.raises(BadInput, match="is a directory") as err:
        probe_file(tmp_path)
    assert type(err.value) is BadInput


def test_unknown_binary_is_octet_stream(tmp_path: Path) -> None:
    blob = tmp_path / "weights.bin"
    blob.write_bytes(b"\x00\x01\x02" * 1000)
    facts = probe_file(blob)
    assert (facts.media_type, facts.category) == ("application/octet-stream", "other")
    assert facts.to_json().keys() == {"sha256", "size", "media_type", "category"}


# --- images and documents ------------------------------------------------------------------------


def test_png_and_jpeg(media: Path) -> None:
    png = probe_file(media / "still.png")
    assert (png.media_type, png.category, png.width, png.height) == ("image/png", "image", 200, 120)
    assert png.duration_ms is None
    jpg = probe_file(media / "still.jpg")
    assert (jpg.media_type, jpg.category, jpg.width, jpg.height) == ("image/jpeg", "image", 64, 48)


def test_pdf_page_count(tmp_path: Path) -> None:
    writer = PdfWriter()
    for _ in range(3):
        writer.add_blank_page(width=612, height=792)
    pdf = tmp_path / "contract.pdf"
    with pdf.open("wb") as f:
        writer.write(f)
    facts = probe_file(pdf)
    assert (facts.media_type, facts.category, facts.pages) == ("application/pdf", "document", 3)
    assert facts.lines == 0  # blank pages have no text
    assert facts.duration_ms is None


# --- text and screenplays ------------------------------------------------------------------------


def _count_lines(text: str) -> int:
    return text.count("\n") + (0 if text.endswith("\n") else 1)


def test_fountain_script_lines_and_estimated_pages(media: Path) -> None:
    text = (media / "pilot.fountain").read_text(encoding="utf-8")
    facts = probe_file(media / "pilot.fountain")
    assert (facts.media_type, facts.category) == (FOUNTAIN_TYPE, "text")
    assert facts.lines == _count_lines(text)
    assert facts.pages == math.ceil(facts.lines / LINES_PER_PAGE)
    assert facts.pages >= 2  # six scenes run past one page


def test_fountain_page_breaks_are_honoured(tmp_path: Path) -> None:
    script = make_script(tmp_path / "breaks.fountain", title="T", author="A", scenes=4, page_breaks=True, seed=3)
    text = script.read_text(encoding="utf-8")
    breaks = sum(1 for line in text.split("\n") if line.strip() == "===")
    assert breaks == 3
    facts = probe_file(script)
    assert facts.pages == breaks + 1
    assert facts.lines == _count_lines(text)


def test_plain_text_lines_pages_and_form_feeds(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("".join(f"line {i}\n" for i in range(111)), encoding="utf-8")
    assert (probe_file(notes).lines, probe_file(notes).pages) == (111, 3)  # ceil(111 / 55)
    notes.write_text("a\nb\n" + "c" * 10, encoding="utf-8")  # no final newline
    assert (probe_file(notes).lines, probe_file(notes).pages) == (3, 1)
    notes.write_bytes(b"dos\r\nline\r\n" * 30 + b"old mac\rline\r")
    assert (probe_file(notes).lines, probe_file(notes).pages) == (62, 2)
    paged = tmp_path / "paged.txt"
    paged.write_text("page one\n\fpage two\nmore\n\f\npage three\n\f\n", encoding="utf-8")  # trailing \f: no 4th page
    facts = probe_file(paged)
    assert (facts.media_type, facts.lines, facts.pages) == ("text/plain", 6, 3)
    # "===" is a Fountain page break only, not in plain text
    eq = tmp_path / "eq.txt"
    eq.write_text("one\n===\ntwo\n", encoding="utf-8")
    assert probe_file(eq).pages == 1


def test_utf16_text_with_txt_extension_is_text(tmp_path: Path) -> None:
    memo = tmp_path / "memo.txt"
    memo.write_bytes("one\ntwo\nthree\n".encode("utf-16"))  # starts with the BOM FF FE
    facts = probe_file(memo)
    assert (facts.media_type, facts.lines, facts.pages) == ("text/plain", 3, 1)


def test_text_without_extension_is_sniffed(tmp_path: Path) -> None:
    script = tmp_path / "SCRIPT"
    script.write_text("Title: Untitled\n\nEXT. BEACH - DAY\n\nWaves.\n", encoding="utf-8")
    assert probe_file(script).media_type == FOUNTAIN_TYPE
    readme = tmp_path / "README"
    readme.write_text("Caf\u00e9 notes\nsecond line\n", encoding="utf-8")
    facts = probe_file(readme)
    assert (facts.media_type, facts.lines, facts.pages) == ("text/plain", 2, 1)


def test_asset_facts_is_frozen(media: Path) -> None:
    facts = probe_file(media / "tune.wav")
    assert isinstance(facts, AssetFacts)
    with pytest.raises(AttributeError):
        facts.size = 1  # type: ignore[misc]
