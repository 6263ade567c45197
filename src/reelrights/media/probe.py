"""Identify an asset file: its content hash and the few facts a rights record needs.

:func:`probe_file` hashes the file by streaming it, takes the media type from magic bytes first and
the extension second (NUL-free UTF-8 with no known extension is sniffed last), then reads:

* video and audio (PyAV): duration, and width and height for video. The duration comes from the
  container header, else the longest stream's header duration, else by demuxing packets to the
  end; nothing is decoded. In indexed containers (MP4/QuickTime, Matroska/WebM) the last second is
  demuxed too, so a file cut short after its header is refused as truncated.
* images (PyAV): width and height; the one picture is decoded to check that it is whole.
* PDF (pypdf): pages, and non-blank text lines if it has at most :data:`PDF_TEXT_MAX_PAGES` pages.
* plain text and Fountain screenplays (UTF-8, or UTF-16 with a byte-order mark): lines, streamed
  (a line ends at LF, CRLF or CR), and pages. Explicit page breaks are honoured when present (a
  form feed ``\\f``; in Fountain also a ``===`` line): each non-blank stretch between them is a page.
  Otherwise pages follow the screenplay convention of about :data:`LINES_PER_PAGE` (55) lines a
  page, ``ceil(lines / 55)``, at least 1: an estimate that does not model the wrapping of long lines.

Fountain has no registered IANA type: reelrights uses :data:`FOUNTAIN_TYPE`, ``text/x-fountain``.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import av
from av.video.stream import VideoStream
from pypdf import PdfReader

from reelrights.errors import BadInput, NotFound

__all__ = ["FOUNTAIN_TYPE", "LINES_PER_PAGE", "PDF_TEXT_MAX_PAGES", "AssetFacts", "probe_file", "sha256_file"]

FOUNTAIN_TYPE = "text/x-fountain"
LINES_PER_PAGE = 55
PDF_TEXT_MAX_PAGES = 200
_CHUNK = 1 << 20

# media type -> (category, how to read it: an FFmpeg demuxer name, "pdf" or "text")
_KINDS = {
    "video/mp4": ("video", "mov"), "video/quicktime": ("video", "mov"), "audio/mp4": ("audio", "mov"),
    "video/x-matroska": ("video", "matroska"), "video/webm": ("video", "matroska"),
    "audio/wav": ("audio", "wav"), "audio/mpeg": ("audio", "mp3"), "audio/flac": ("audio", "flac"),
    "audio/ogg": ("audio", "ogg"), "image/png": ("image", "png_pipe"), "image/jpeg": ("image", "jpeg_pipe"),
    "application/pdf": ("document", "pdf"), "text/plain": ("text", "text"), FOUNTAIN_TYPE: ("text", "text"),
}  # fmt: skip
_EXTENSIONS = {
    ".mp4": "video/mp4", ".m4v": "video/mp4", ".mov": "video/quicktime", ".qt": "video/quicktime",
    ".mkv": "video/x-matroska", ".webm": "video/webm", ".m4a": "audio/mp4", ".wav": "audio/wav",
    ".mp3": "audio/mpeg", ".flac": "audio/flac", ".ogg": "audio/ogg", ".oga": "audio/ogg",
    ".opus": "audio/ogg", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
    ".pdf": "application/pdf", ".txt": "text/plain", ".text": "text/plain",
    ".fountain": FOUNTAIN_TYPE, ".spmd": FOUNTAIN_TYPE,
}  # fmt: skip
_AUDIO_ONLY = {"video/mp4": "audio/mp4", "video/quicktime": "audio/mp4",
               "video/x-matroska": "audio/x-matroska", "video/webm": "audio/webm"}  # fmt: skip
_WITH_VIDEO = {"audio/mp4": "video/mp4", "audio/ogg": "video/ogg"}
_MAGIC = [(b"fLaC", "audio/flac"), (b"OggS", "audio/ogg"),
          (b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg")]  # fmt: skip
_INDEXED = {"mov", "matroska"}  # containers whose header promises where the data ends
_FOUNTAIN_HINT = re.compile(rb"^(?:title:|(?:int|ext|est|int\./ext|i/e)[. ])", re.IGNORECASE | re.MULTILINE)
_FOUNTAIN_BREAK = re.compile(r"={3,}")


@dataclass(frozen=True)
class AssetFacts:
    """What probing one asset file found. Fields that do not apply to its category are None."""

    sha256: str  # lowercase hex of the file's bytes
    size: int  # bytes
    media_type: str  # IANA media type, e.g. "video/mp4"
    category: str  # video | audio | text | document | image | other
    duration_ms: int | None = None
    pages: int | None = None
    lines: int | None = None
    width: int | None = None
    height: int | None = None

    def to_json(self) -> dict[str, str | int]:
        """The facts as a JSON-ready dict, leaving out the fields that are None."""
        return {k: v for k, v in asdict(self).items() if v is not None}


def sha256_file(path: str | os.PathLike[str], chunk: int = _CHUNK) -> tuple[str, int]:
    """Return ``(lowercase hex SHA-256, size in bytes)`` of a file, read ``chunk`` bytes at a time."""
    p = Path(path)
    if chunk <= 0:
        raise BadInput(f"chunk={chunk}: the read size must be a positive number of bytes")
    if p.is_dir():
        raise BadInput(f"{p}: is a directory, not a file; give the path of one asset file")
    digest, size, buf = hashlib.sha256(), 0, bytearray(chunk)
    view = memoryview(buf)
    try:
        with p.open("rb") as f:
            while n := f.readinto(buf):
                digest.update(view[:n])
                size += n
    except FileNotFoundError:
        raise NotFound(f"{p}: no such file; check the path") from None
    except OSError as e:
        raise BadInput(f"{p}: cannot be read ({e.strerror}); check its permissions") from None
    return digest.hexdigest(), size


def probe_file(path: str | os.PathLike[str]) -> AssetFacts:
    """Hash and identify one asset file (see the module docstring for what is read and how)."""
    p = Path(path)
    sha, size = sha256_file(p)
    if size == 0:
        raise BadInput(f"{p}: the file is empty; check the export or upload finished")
    with p.open("rb") as f:
        head = f.read(4096)
    media_type = _sniff(head) or _EXTENSIONS.get(p.suffix.lower()) or _sniff_text(head)
    if media_type is None:
        return AssetFacts(sha, size, "application/octet-stream", "other")
    category, reader = _KINDS[media_type]
    if reader == "text":
        lines, pages = _count_text(p, head, fountain=media_type == FOUNTAIN_TYPE)
        return AssetFacts(sha, size, media_type, category, pages=pages, lines=lines)
    if reader == "pdf":
        pdf_pages, pdf_lines = _read_pdf(p)
        return AssetFacts(sha, size, media_type, category, pages=pdf_pages, lines=pdf_lines)
    media_type, category, duration_ms, width, height = _read_av(p, media_type, category, reader)
    return AssetFacts(sha, size, media_type, category, duration_ms=duration_ms, width=width, height=height)


def _sniff(head: bytes) -> str | None:
    """The media type the file's magic bytes announce, if any."""
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        return "video/quicktime" if brand == b"qt  " else "audio/mp4" if brand in (b"M4A ", b"M4B ") else "video/mp4"
    if head[4:8] in (b"moov", b"mdat", b"wide"):  # QuickTime from before ftyp
        return "video/quicktime"
    if head.startswith(b"\x1a\x45\xdf\xa3"):  # EBML; the DocType follows in the first bytes
        return "video/webm" if b"webm" in head[:64] else "video/x-matroska"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE6 in (0xE2, 0xE4)):
        return "audio/mpeg"  # an ID3 tag, or an MPEG layer III/II frame sync (not ADTS AAC, not a UTF-16 BOM)
    for magic, media_type in _MAGIC:
        if head.startswith(magic):
            return media_type
    return "application/pdf" if b"%PDF-" in head[:1024] else None


def _sniff_text(head: bytes) -> str | None:
    """text/plain or Fountain for NUL-free UTF-8 (the sniff may end inside a character), else None."""
    if b"\0" in head:
        return None
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as e:
        if e.start < len(head) - 3:
            return None
    return FOUNTAIN_TYPE if _FOUNTAIN_HINT.search(head) else "text/plain"


def _count_text(p: Path, head: bytes, *, fountain: bool) -> tuple[int, int]:
    """(lines, pages) of a UTF-8 (or, with a BOM, UTF-16) text file, read a line (at most a chunk) at a time."""
    lines = pages = 0
    broken = content = False  # any explicit page break seen; non-blank text since the last one
    at_line_start = True
    encoding = "utf-16" if head[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig"
    with p.open(encoding=encoding, errors="replace", newline="") as f:
        while piece := f.readline(_CHUNK):
            if at_line_start:
                lines += 1
            is_break_line = fountain and at_line_start and _FOUNTAIN_BREAK.fullmatch(piece.strip())
            for i, part in enumerate(["", ""] if is_break_line else piece.split("\f")):
                if i:  # a page break sits before this part
                    broken, pages, content = True, pages + content, False
                content = content or bool(part.strip())
            at_line_start = piece.endswith(("\n", "\r"))
    pages += content
    if not broken:
        pages = math.ceil(lines / LINES_PER_PAGE)
    return lines, max(pages, 1)


def _read_pdf(p: Path) -> tuple[int, int | None]:
    """(pages, non-blank text lines or None) of a PDF."""
    try:
        reader = PdfReader(p)
        locked = reader.is_encrypted and not reader.decrypt("")
        if not locked:
            pages = len(reader.pages)
            lines = None
            if pages <= PDF_TEXT_MAX_PAGES:
                text = "\n".join(page.extract_text() or "" for page in reader.pages)
                lines = sum(1 for line in text.splitlines() if line.strip())
    except Exception as e:  # pypdf raises many kinds of error on a damaged file
        raise BadInput(f"{p}: not a readable PDF (pypdf: {e}); check the file is complete or re-export it") from e
    if locked:
        raise BadInput(f"{p}: the PDF is password-protected; supply an unencrypted copy")
    return pages, lines


def _read_av(p: Path, media_type: str, category: str, fmt: str) -> tuple[str, str, int | None, int | None, int | None]:
    """(media type, category, duration ms, width, height) of a video, audio or image file."""
    kind = "image" if category == "image" else "video or audio"
    fail = f"{p}: not a readable {kind} file"
    try:
        with av.open(str(p), format=fmt) as c:
            streams = [s for s in c.streams if s.type in ("video", "audio")
                       and not s.disposition & av.stream.Disposition.attached_pic]  # fmt: skip
            video = next((s for s in streams if isinstance(s, VideoStream)), None)
            if category == "image":
                if video is None:
                    raise BadInput(f"{fail} (no picture in it); check the file is complete or re-export it")
                next(c.decode(video))
                return media_type, category, None, video.width, video.height
            if not streams:
                raise BadInput(f"{fail} (no video or audio stream in it); check it is the right file")
            if video is None and category == "video":
                media_type, category = _AUDIO_ONLY.get(media_type, media_type), "audio"
            elif video is not None and media_type in _WITH_VIDEO:
                media_type, category = _WITH_VIDEO[media_type], "video"
            duration = _header_duration(c, streams)
            if duration is None:
                duration = _data_end(c, streams[0], 0.0)
            elif fmt in _INDEXED:
                end = _data_end(c, video or streams[0], duration - 1.0)
                if end < duration - 0.5:
                    raise BadInput(f"{p}: truncated: the header says {duration:.2f} s but the data ends at "
                                   f"{end:.2f} s; copy or export the file again")  # fmt: skip
    except av.error.FFmpegError as e:
        raise BadInput(f"{fail} (PyAV: {e.strerror}); check the file is complete or re-export it") from e
    except StopIteration:
        raise BadInput(f"{fail} (the picture does not decode); check the file is complete or re-export it") from None
    width, height = (video.width, video.height) if video is not None else (None, None)
    return media_type, category, round(duration * 1000), width, height


def _header_duration(c: av.container.InputContainer, streams: list[av.stream.Stream]) -> float | None:
    """Seconds the container header (else the longest stream header) says the file lasts."""
    if c.duration:
        return c.duration / av.time_base
    durations = [float(s.duration * s.time_base) for s in streams if s.duration and s.time_base]
    return max(durations, default=None)


def _data_end(c: av.container.InputContainer, stream: av.stream.Stream, from_s: float) -> float:
    """Seconds (from the file's start time) at which the last packet ends, demuxing from about ``from_s``."""
    start = (c.start_time or 0) / av.time_base
    if from_s > 0 and stream.time_base:
        with contextlib.suppress(av.error.FFmpegError):  # not seekable: demux from where we are
            c.seek(int((start + from_s) / stream.time_base), stream=stream, any_frame=True, backward=True)
    end = 0.0
    for packet in c.demux():
        if packet.pts is not None and packet.time_base:
            end = max(end, float((packet.pts + (packet.duration or 0)) * packet.time_base) - start)
    return end
