"""Decide what an uploaded file really is, from its bytes, before any parser touches it.

A file's name is only a claim: an ``invoice.pdf`` can be a Windows program and a
``slides.pptx`` a zip bomb. The type comes from magic bytes (and, for Office files, the
zip listing); the extension only chooses among text formats and must agree with the
content. Zip containers are vetted for bombs and unsafe member paths here, so no parser
ever opens one that would expand without bound. Every refusal is an ``IngestError`` whose
message an admin can act on.
"""

from __future__ import annotations

import copy
import json
import lzma
import mmap
import re
import unicodedata
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from ingestion.document import IngestError
from ingestion.parse_text import csv_dialect, decode_text

MAX_UNZIPPED_BYTES = 300 * 1024 * 1024  # all members of an Office file together
MAX_RATIO = 200  # uncompressed / compressed, for members over RATIO_MIN_BYTES
RATIO_MIN_BYTES = 1024 * 1024
MAX_ENTRIES = 10_000
MAX_NAME_CHARS = 150
_READ = 1024 * 1024  # members are measured by inflating them, this much at a time
_HEAD = 65536  # what the nesting, macro and entity checks look at
ZIP_BOMB = "{} expands to {}; refusing a possible zip bomb"
# What inflating a damaged member raises (a corrupt stream deep inside one, a bad CRC...)
_UNPACK_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
    NotImplementedError,
    OSError,
    EOFError,
    ValueError,
)

SUPPORTED = (
    "PDF, Word (.docx), PowerPoint (.pptx), Excel (.xlsx), CSV, text, Markdown, HTML, JSON, "
    "JPG or PNG"
)
PASSWORD_PROTECTED = "{} is password-protected; remove the password and upload it again"
KIND_NAMES = {
    "pdf": "a PDF",
    "docx": "a Word document",
    "pptx": "a PowerPoint presentation",
    "xlsx": "an Excel workbook",
    "csv": "a CSV file",
    "txt": "a text file",
    "md": "a Markdown file",
    "html": "an HTML page",
    "json": "a JSON file",
    "jpg": "a JPG image",
    "png": "a PNG image",
}
EXTENSIONS = {
    **{f".{kind}": kind for kind in KIND_NAMES},
    ".jpeg": "jpg",
    ".htm": "html",
    ".xhtml": "html",
    ".markdown": "md",
    ".text": "txt",
    ".tsv": "csv",
}
TEXT_KINDS = frozenset({"csv", "txt", "md", "html", "json"})
_LEGACY_ENCODING_OK = frozenset({"csv", "txt", "md", "html"})  # JSON must be UTF-8 (RFC 8259)
_FAMILIES = ({"jpg", "png"},)  # a PNG named .jpg is harmless: the same OCR reads both

# (magic, where, description, weak): weak magics also need a NUL byte, so a text file
# that happens to start with "MZ" or "BM" is not mistaken for a program or a bitmap.
_SIGNATURES: list[tuple[bytes, int, str, bool]] = [
    (b"MZ", 0, "a Windows program", True),
    (b"\x7fELF", 0, "a Linux program", False),
    (b"\xfe\xed\xfa\xce", 0, "a Mac program", False),
    (b"\xfe\xed\xfa\xcf", 0, "a Mac program", False),
    (b"\xce\xfa\xed\xfe", 0, "a Mac program", False),
    (b"\xcf\xfa\xed\xfe", 0, "a Mac program", False),
    (b"\xca\xfe\xba\xbe", 0, "a Mac or Java program", False),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 0, "an old-format Office file", False),
    (b"GIF87a", 0, "a GIF image (only JPG and PNG images can be read)", False),
    (b"GIF89a", 0, "a GIF image (only JPG and PNG images can be read)", False),
    (b"WEBP", 8, "a WebP image (only JPG and PNG images can be read)", False),
    (b"ftyphei", 4, "an iPhone HEIC photo (export it as JPG)", False),
    (b"ftypmif1", 4, "an iPhone HEIC photo (export it as JPG)", False),
    (b"II*\x00", 0, "a TIFF image (only JPG and PNG images can be read)", False),
    (b"MM\x00*", 0, "a TIFF image (only JPG and PNG images can be read)", False),
    (b"BM", 0, "a bitmap image (only JPG and PNG images can be read)", True),
    (b"Rar!\x1a\x07", 0, "a RAR archive", False),
    (b"7z\xbc\xaf\x27\x1c", 0, "a 7-Zip archive", False),
    (b"\x1f\x8b", 0, "a compressed (gzip) archive", False),
    (b"PK\x05\x06", 0, "an empty zip archive", False),
]
_ARCHIVE_MAGICS = (b"PK\x03\x04", b"Rar!", b"7z\xbc\xaf", b"\x1f\x8b", b"\xd0\xcf\x11\xe0")
_OFFICE_PARTS = {
    "word/document.xml": "docx",
    "ppt/presentation.xml": "pptx",
    "xl/workbook.xml": "xlsx",
}
_HTML_TAG = re.compile(
    r"<(!doctype\s+html|html|head|body|title|p|div|span|h[1-6]|table|ul|ol|a|br|section|"
    r"article|main)\b",
    re.IGNORECASE,
)
_UNSAFE_NAME_CHARS = re.compile(r'[<>:"|?*\x00-\x1f\x7f]')


def safe_filename(name: str) -> str:
    """A readable basename that is safe to show and store: no directories, no control or
    bidi-override characters (which disguise "exe.pdf"), no leading dots; never empty."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = unicodedata.normalize("NFC", base)
    base = "".join(c for c in base if unicodedata.category(c) not in ("Cc", "Cf"))
    base = _UNSAFE_NAME_CHARS.sub("_", base)
    base = " ".join(base.split()).lstrip(". ").rstrip(". ")
    if len(base) > MAX_NAME_CHARS:
        stem, dot, ext = base.rpartition(".")
        if dot and 0 < len(ext) <= 16:
            base = stem[: MAX_NAME_CHARS - len(ext) - 1].rstrip(". ") + "." + ext
        else:
            base = base[:MAX_NAME_CHARS].rstrip(". ")
    return base if base.strip("_") else "upload"


def human_size(size: int) -> str:
    """Sizes as an admin reads them: 512 bytes, 40 KB, 3.5 MB, 120 MB, 5 GB."""
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= scale:
            value = size / scale
            return (
                f"{value:.1f} {unit}".replace(".0 ", " ") if value < 10 else f"{value:.0f} {unit}"
            )
    return f"{size} bytes"


def sniff(path: Path, filename: str, *, max_bytes: int) -> str:
    """The file's real type ("pdf", "docx", ..., "png"), or ``IngestError`` saying why not."""
    name = safe_filename(filename)
    size = path.stat().st_size
    if size > max_bytes:
        raise IngestError(f"{name} is {human_size(size)}; the limit is {human_size(max_bytes)}")
    if size == 0:
        raise IngestError(f"{name} is empty")
    expected = EXTENSIONS.get(PurePosixPath(name).suffix.lower())
    with path.open("rb") as handle:
        head = handle.read(8192)
    kind, what = _binary_kind(head, path, name)
    if kind is None and what is None:
        text = decode_text(path.read_bytes(), legacy=expected in _LEGACY_ENCODING_OK)
        if text is None:
            what = "binary data of an unknown type"
        elif expected in TEXT_KINDS:
            kind = _verified_text_kind(text, expected, name)
        elif expected is None:
            kind = _guess_text_kind(text)
        else:
            what = "a text file"
    if kind is None:
        if expected:
            raise IngestError(f"{name} is not {KIND_NAMES[expected]}: it looks like {what}")
        raise IngestError(f"{name} cannot be used: it looks like {what}. Upload {SUPPORTED} files.")
    if expected and kind != expected and not any({kind, expected} <= f for f in _FAMILIES):
        raise IngestError(f"{name} is not {KIND_NAMES[expected]}: it looks like {KIND_NAMES[kind]}")
    return kind


def _binary_kind(head: bytes, path: Path, name: str) -> tuple[str | None, str | None]:
    """(kind, None) for a supported binary type, (None, description) for a refused one,
    (None, None) when the bytes may be text."""
    start = head.find(b"%PDF-")
    if start == 0 or (0 < start < 1024 and not head[:start].strip()):
        return "pdf", None
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png", None
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg", None
    if head.startswith(b"PK\x03\x04"):
        return _office_kind(path, name)
    for magic, offset, what, weak in _SIGNATURES:
        if head[offset : offset + len(magic)] == magic and (not weak or b"\x00" in head):
            if magic.startswith(b"\xd0\xcf") and _ole_is_encrypted_office(path):
                raise IngestError(PASSWORD_PROTECTED.format(name))
            return None, what
    return None, None


def _ole_is_encrypted_office(path: Path) -> bool:
    """Password-protected .docx/.xlsx/.pptx are OLE files holding an "EncryptedPackage"."""
    marker = "EncryptedPackage".encode("utf-16-le")
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        return data.find(marker) != -1


def _office_kind(path: Path, name: str) -> tuple[str | None, str | None]:
    """Vet a zip before any parser opens it: size, ratio, entry count, member paths, nesting."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise IngestError(f"{name} is damaged: its contents cannot be unpacked") from exc
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_ENTRIES:
            raise IngestError(f"{name} contains {len(infos):,} files; refusing a possible zip bomb")
        total = sum(info.file_size for info in infos)  # what the headers claim (see _measure)
        if total > MAX_UNZIPPED_BYTES:
            raise IngestError(ZIP_BOMB.format(name, human_size(total)))
        for info in infos:
            member = info.filename.replace("\\", "/")
            if member.startswith("/") or ".." in member.split("/") or member[1:2] == ":":
                raise IngestError(
                    f"{name} contains an unsafe file path ({member[:80]}); refusing it"
                )
            ratio = info.file_size // max(info.compress_size, 1)
            if info.file_size > RATIO_MIN_BYTES and ratio > MAX_RATIO:
                raise IngestError(
                    f"{name} contains a part that expands {ratio:,} times; "
                    "refusing a possible zip bomb"
                )
        names = {info.filename for info in infos}
        folders = {n.split("/", 1)[0] for n in names if "/" in n}
        kind = next((k for part, k in _OFFICE_PARTS.items() if part in names), None)
        kind = kind or next(
            (k for p, k in _OFFICE_PARTS.items() if p.split("/")[0] in folders), None
        )
        if kind is None:
            if "mimetype" in names and "content.xml" in names:
                return None, "an OpenDocument file (save it as .docx, .xlsx or .pptx)"
            return None, "a zip archive"
        budget = MAX_UNZIPPED_BYTES
        for info in infos:
            head, size = _measure(archive, info, name, budget)
            budget -= size
            _peek_member(info, head, name)
    return kind, None


def _measure(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, budget: int
) -> tuple[bytes, int]:
    """Inflate one member to its real end, counting: (its first bytes, its real size).

    A zip's declared sizes are only claims, and zipfile believes them: it stops reading a
    member at its declared size, so a bomb whose headers say "0 bytes" passes a check of
    the headers and then hands a parser a truncated part. Here the declared size is set
    aside (zipfile reads a copy to the end of its compressed data) and the output is
    counted, so no more than ``budget`` bytes (what the whole file may still expand to,
    plus one read) are inflated.
    """
    unbounded = copy.copy(info)
    unbounded.file_size = 1 << 62  # zipfile's read limit; the count below stops first
    head, size = b"", 0
    try:
        with archive.open(unbounded) as member:
            while chunk := member.read(_READ):
                if len(head) < _HEAD:
                    head += chunk[: _HEAD - len(head)]
                size += len(chunk)
                if size > budget:
                    over = human_size(MAX_UNZIPPED_BYTES)
                    raise IngestError(ZIP_BOMB.format(name, f"more than {over}"))
                if size > RATIO_MIN_BYTES and size > MAX_RATIO * max(info.compress_size, 1):
                    raise IngestError(
                        f"{name} contains a part that expands more than {MAX_RATIO} times; "
                        "refusing a possible zip bomb"
                    )
    except RuntimeError as exc:  # zipfile: "File ... is encrypted, password required"
        raise IngestError(PASSWORD_PROTECTED.format(name)) from exc
    except _UNPACK_ERRORS as exc:
        raise IngestError(f"{name} is damaged or uses an unsupported compression") from exc
    if size != info.file_size:  # the header lied (and the CRC was forged to match)
        raise IngestError(f"{name} is damaged: its contents cannot be unpacked")
    return head, size


def _peek_member(info: zipfile.ZipInfo, head: bytes, name: str) -> None:
    """Refuse nested archives (outside Office's own embeddings folder, whose charts carry
    an .xlsx that no parser here ever opens) and XML parts that declare entities."""
    embedded = "/embeddings/" in f"/{info.filename}"
    if info.filename.lower().endswith("vbaproject.bin"):
        raise IngestError(f"{name} contains macros; save it without macros and upload it again")
    if head.startswith(_ARCHIVE_MAGICS) and not embedded:
        raise IngestError(
            f"{name} contains another archive ({info.filename[:80]}); nested archives are refused"
        )
    is_xml = info.filename.lower().endswith((".xml", ".rels"))
    if is_xml and b"<!ENTITY" in head:  # entity expansion ("billion laughs") attacks
        raise IngestError(f"{name} contains XML entity declarations; refusing it")


def _verified_text_kind(text: str, kind: str, name: str) -> str:
    """The extension's text kind, once the content agrees with it."""
    if kind == "json":
        try:
            json.loads(text)
        except ValueError as exc:
            where = (
                f" (line {exc.lineno}: {exc.msg})" if isinstance(exc, json.JSONDecodeError) else ""
            )
            raise IngestError(f"{name} is not valid JSON{where}") from exc
        except RecursionError as exc:
            raise IngestError(f"{name} is nested too deeply to read") from exc
    elif kind == "html" and not _HTML_TAG.search(text[:1_000_000]):
        raise IngestError(f"{name} is not an HTML page: it contains no HTML tags")
    elif kind == "csv" and csv_dialect(text) is None:
        raise IngestError(
            f"{name} does not look like a table: no consistent columns separated by commas, "
            "semicolons or tabs (plain text can be uploaded as .txt)"
        )
    return kind


def _guess_text_kind(text: str) -> str:
    """Text under an unknown extension: JSON, HTML or plain text."""
    stripped = text.lstrip()
    if stripped[:1] in "{[":
        try:
            json.loads(text)
            return "json"
        except (ValueError, RecursionError):
            pass
    if re.match(r"<(!doctype\s+html|html)\b", stripped, re.IGNORECASE):
        return "html"
    return "txt"
