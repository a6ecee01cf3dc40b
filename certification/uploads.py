"""Checking uploaded evidence before it is kept: type by content, size, zip structure, macros, file names.

Nothing here trusts the file name or the browser's Content-Type. The type is read from the bytes (magic numbers,
the MP4 ``ftyp`` box, the Office package's ``[Content_Types].xml``), and the name's extension must then agree.
Zip-based Office files are judged from the zip's central directory (entry count, declared sizes, compression
ratios) before any part of them is decompressed, so a zip bomb is refused without being inflated.
Every function here reads in bounded chunks: memory does not grow with the file's size.
"""

import hashlib
import os
import re
import shutil
import struct
import tempfile
import unicodedata
import uuid
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import NamedTuple

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeElementTree
from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, default_storage, storages
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from certification.errors import InvalidInput

CHUNK_SIZE = 64 * 1024
DEFAULT_MAX_UPLOAD_BYTES = 50 * 1024 * 1024

# Zip limits, overridable in settings. Real Office files stay far below them: a 50,000-row sheet compresses
# about 10:1, images hardly at all, and a document rarely has more than a few hundred parts.
ZIP_MAX_ENTRIES = 2000
ZIP_MAX_UNCOMPRESSED_BYTES = 512 * 1024 * 1024
ZIP_MAX_ENTRY_RATIO = 200
ZIP_MAX_TOTAL_RATIO = 100
# Tiny parts compress absurdly well (a run of zeros) and are harmless; ratios count only above this size.
ZIP_RATIO_FLOOR_BYTES = 1024 * 1024
CONTENT_TYPES_MAX_BYTES = 1024 * 1024

PREVIEWABLE_CONTENT_TYPES = frozenset({"application/pdf", "image/png", "image/jpeg"})


class UploadRejected(InvalidInput):
    """An upload that will not be kept. The message says what is wrong and what to do instead."""


@dataclass(frozen=True)
class FileType:
    key: str
    label: str
    content_type: str
    extensions: tuple
    office_main: str = ""


FILE_TYPES = {
    file_type.key: file_type
    for file_type in (
        FileType("pdf", "PDF", "application/pdf", (".pdf",)),
        FileType(
            "docx",
            "Word (.docx)",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            (".docx",),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
        ),
        FileType(
            "xlsx",
            "Excel (.xlsx)",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            (".xlsx",),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        ),
        FileType(
            "pptx",
            "PowerPoint (.pptx)",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            (".pptx",),
            "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
        ),
        FileType("jpg", "JPEG", "image/jpeg", (".jpg", ".jpeg")),
        FileType("png", "PNG", "image/png", (".png",)),
        FileType("mp4", "MP4", "video/mp4", (".mp4",)),
    )
}
# Data set imports also take OpenDocument spreadsheets (LibreOffice, WPS); evidence keeps them only from an import.
ODS = FileType("ods", "OpenDocument (.ods)", "application/vnd.oasis.opendocument.spreadsheet", (".ods",))
SPREADSHEET_TYPES = {file_type.key: file_type for file_type in (FILE_TYPES["xlsx"], ODS)}
OFFICE_MAIN_TYPES = {file_type.office_main: file_type for file_type in FILE_TYPES.values() if file_type.office_main}

# Compound File Binary: .doc/.xls/.ppt, WPS's own formats, and Office Open XML files encrypted with a password.
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# ISO base media brands that mean an MP4 file (QuickTime's "qt  " and 3GPP are not on the list).
MP4_BRANDS = {b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ", b"dash"}
# Any of these in the first bytes of a JPEG after FF D8 FF: APPn, quantisation table, start of frame, comment.
JPEG_MARKERS = set(range(0xE0, 0xF0)) | {0xDB, 0xC0, 0xC2, 0xFE}


def allowed_types_text(types=None):
    return "、".join(file_type.label for file_type in (types or FILE_TYPES).values())


def max_upload_bytes():
    return int(getattr(settings, "EVIDENCE_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES))


def _limit(name, default):
    return int(getattr(settings, name, default))


# --- file names -------------------------------------------------------------------------------------------------

_WINDOWS_RESERVED = re.compile(r'[<>:"|?*]')
_WHITESPACE = re.compile(r"\s+")
MAX_NAME_LENGTH = 150


def sanitise_filename(name):
    """A file name safe to show and to offer in Content-Disposition: one path component, no control or bidi
    characters, no characters Windows refuses, at most 150 characters with the extension kept. Chinese is kept.
    """
    name = unicodedata.normalize("NFC", str(name or ""))
    # Every category C character goes: controls (Cc), format characters such as the bidi overrides U+202E and
    # U+2066..2069 and zero-width joiners (Cf), surrogates, private use and unassigned code points.
    # Line breaks and tabs become spaces (so "a\r\nb" stays two words), every other one is dropped.
    name = "".join(" " if ch in "\t\n\r\x0b\x0c" else ch for ch in name)
    name = "".join(ch for ch in name if not unicodedata.category(ch).startswith("C"))
    # Only the last path component counts, whichever separator the client used.
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _WINDOWS_RESERVED.sub("_", name)
    name = _WHITESPACE.sub(" ", name).strip().rstrip(". ")
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    stem = stem.strip().strip(".")
    extension = extension.strip()[:10]
    if not stem:
        stem = "file"
    room = MAX_NAME_LENGTH - (len(extension) + 1 if extension else 0)
    stem = stem[:room].rstrip(". ")
    return f"{stem}.{extension}" if extension else stem


def extension_of(name):
    suffix = PurePosixPath(name).suffix.lower()
    return suffix


# --- type detection -----------------------------------------------------------------------------------------------


def _read_at(fileobj, offset, size):
    fileobj.seek(offset)
    return fileobj.read(size)


def _file_size(fileobj):
    fileobj.seek(0, os.SEEK_END)
    return fileobj.tell()


def _looks_like_pdf(fileobj, size):
    if _read_at(fileobj, 0, 5) != b"%PDF-":
        return False
    tail_size = min(size, 2048)
    return b"%%EOF" in _read_at(fileobj, size - tail_size, tail_size)


def _looks_like_png(fileobj):
    head = _read_at(fileobj, 0, 16)
    return head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR"


def _looks_like_jpeg(fileobj):
    head = _read_at(fileobj, 0, 4)
    return len(head) == 4 and head[:3] == b"\xff\xd8\xff" and head[3] in JPEG_MARKERS


def _looks_like_mp4(fileobj):
    head = _read_at(fileobj, 0, 64)
    if len(head) < 16 or head[4:8] != b"ftyp":
        return False
    box_end = min(int.from_bytes(head[:4], "big"), len(head))
    if box_end < 16:
        return False
    # The major brand, then (after the minor version) the compatible brands.
    brands = {head[8:12]} | {head[i : i + 4] for i in range(16, box_end - 3, 4)}
    return bool(brands & MP4_BRANDS)


def _check_zip_structure(archive):
    """Refuse a zip whose central directory promises too much. Nothing is decompressed here."""
    entries = archive.infolist()
    if len(entries) > _limit("EVIDENCE_ZIP_MAX_ENTRIES", ZIP_MAX_ENTRIES):
        raise _too_many_entries(len(entries), _limit("EVIDENCE_ZIP_MAX_ENTRIES", ZIP_MAX_ENTRIES))
    names = [entry.filename for entry in entries]
    if len(set(names)) != len(names):
        raise UploadRejected(
            _("The file is a damaged Office package (a part appears twice). Save it again from Office.")
        )
    total_uncompressed = sum(entry.file_size for entry in entries)
    total_compressed = sum(entry.compress_size for entry in entries)
    if total_uncompressed > _limit("EVIDENCE_ZIP_MAX_UNCOMPRESSED_BYTES", ZIP_MAX_UNCOMPRESSED_BYTES):
        raise UploadRejected(
            _(
                "The file unpacks to %(size)s, more than the %(limit)s accepted. It looks like a zip bomb; it was refused."
            )
            % {
                "size": filesizeformat(total_uncompressed),
                "limit": filesizeformat(_limit("EVIDENCE_ZIP_MAX_UNCOMPRESSED_BYTES", ZIP_MAX_UNCOMPRESSED_BYTES)),
            }
        )
    entry_ratio = _limit("EVIDENCE_ZIP_MAX_ENTRY_RATIO", ZIP_MAX_ENTRY_RATIO)
    for entry in entries:
        if entry.flag_bits & 0x1:
            raise UploadRejected(_("The file is encrypted. Remove the password and upload it again."))
        if entry.file_size > ZIP_RATIO_FLOOR_BYTES and entry.file_size > entry_ratio * max(entry.compress_size, 1):
            raise UploadRejected(
                _(
                    "A part of the file is compressed more than %(ratio)s to 1. It looks like a zip bomb; it was refused."
                )
                % {"ratio": entry_ratio}
            )
    total_ratio = _limit("EVIDENCE_ZIP_MAX_TOTAL_RATIO", ZIP_MAX_TOTAL_RATIO)
    if total_uncompressed > ZIP_RATIO_FLOOR_BYTES and total_uncompressed > total_ratio * max(total_compressed, 1):
        raise UploadRejected(
            _("The file is compressed more than %(ratio)s to 1 overall. It looks like a zip bomb; it was refused.")
            % {"ratio": total_ratio}
        )


def _macro_refusal():
    return UploadRejected(
        _(
            "The file contains macros (VBA). Macro-enabled Office files are not accepted: save it as "
            ".docx, .xlsx or .pptx without macros and upload it again."
        )
    )


_END_OF_CENTRAL_DIRECTORY = struct.Struct("<4s4H2LH")
# The end record is 22 bytes plus a comment of at most 65,535.
_END_SEARCH_BYTES = _END_OF_CENTRAL_DIRECTORY.size + 0xFFFF
# Office writes short part names; this leaves room for long ones and extra fields, never for a million entries.
ZIP_MAX_DIRECTORY_BYTES = 4 * 1024 * 1024


def _too_many_entries(count, limit):
    return UploadRejected(
        _("The file holds %(count)s parts; at most %(limit)s are accepted. Save it again from Office or split it.")
        % {"count": count, "limit": limit}
    )


def _check_zip_directory_size(fileobj, size):
    """Read the zip's end record ourselves: zipfile would build an object per entry before we could count them."""
    tail_size = min(size, _END_SEARCH_BYTES)
    tail = _read_at(fileobj, size - tail_size, tail_size)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < _END_OF_CENTRAL_DIRECTORY.size:
        return False
    fields = _END_OF_CENTRAL_DIRECTORY.unpack_from(tail, at)
    entries, directory_bytes = fields[4], fields[5]
    limit = _limit("EVIDENCE_ZIP_MAX_ENTRIES", ZIP_MAX_ENTRIES)
    # 0xFFFF means a ZIP64 count follows elsewhere: more parts than any accepted file has.
    if entries > limit:
        raise _too_many_entries(entries, limit)
    if directory_bytes > ZIP_MAX_DIRECTORY_BYTES:
        raise UploadRejected(
            _("The file's zip directory is too large for an Office document. Save it again from Office.")
        )
    return True


def _office_type(fileobj):
    """The FileType of an Office Open XML package, None for any other zip. Raises UploadRejected for bombs/macros."""
    if not _check_zip_directory_size(fileobj, _file_size(fileobj)):
        return None
    try:
        archive = zipfile.ZipFile(fileobj)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError):
        return None
    with archive:
        _check_zip_structure(archive)
        lowered = [entry.filename.lower() for entry in archive.infolist()]
        if any(name.rsplit("/", 1)[-1].startswith("vbaproject") for name in lowered):
            raise _macro_refusal()
        try:
            info = archive.getinfo("[Content_Types].xml")
        except KeyError:
            return _opendocument_type(archive, lowered)
        if info.file_size > CONTENT_TYPES_MAX_BYTES:
            return None
        try:
            with archive.open(info) as part:
                raw = part.read(CONTENT_TYPES_MAX_BYTES + 1)
        except (zipfile.BadZipFile, NotImplementedError, OSError, EOFError, ValueError, RuntimeError):
            return None
        # [Content_Types].xml never has a DTD; defusedxml refuses one, keeping entity expansion out of the parser.
        try:
            root = SafeElementTree.fromstring(raw, forbid_dtd=True)
        except (SafeElementTree.ParseError, DefusedXmlException):
            return None
        content_types = {}
        for element in root:
            tag = element.tag.rsplit("}", 1)[-1]
            if tag == "Override":
                content_types[element.get("PartName", "")] = element.get("ContentType", "")
            elif tag == "Default":
                content_types["*." + element.get("Extension", "").lower()] = element.get("ContentType", "")
        declared = [value.lower() for value in content_types.values()]
        if any("macroenabled" in value or "vbaproject" in value for value in declared):
            raise _macro_refusal()
        names = set(archive.namelist())
        for part_name, content_type in content_types.items():
            file_type = OFFICE_MAIN_TYPES.get(content_type)
            if file_type is not None and part_name.lstrip("/") in names:
                return file_type
    return None


def _opendocument_type(archive, lowered):
    """ODS for an OpenDocument spreadsheet (its first part, `mimetype`, names it), else None."""
    if "mimetype" not in lowered:
        return None
    if any(name.startswith(("basic/", "scripts/")) for name in lowered):
        raise _macro_refusal()
    try:
        with archive.open("mimetype") as part:
            declared = part.read(100).strip()
    except (KeyError, zipfile.BadZipFile, NotImplementedError, OSError, EOFError, ValueError, RuntimeError):
        return None
    return ODS if declared == ODS.content_type.encode() else None


def detect_type(fileobj):
    """The allowed FileType the bytes of `fileobj` are, or None. Raises UploadRejected for zip bombs and macros."""
    size = _file_size(fileobj)
    if size == 0:
        return None
    head = _read_at(fileobj, 0, 4)
    if head == b"PK\x03\x04":
        return _office_type(fileobj)
    if _looks_like_pdf(fileobj, size):
        return FILE_TYPES["pdf"]
    if _looks_like_png(fileobj):
        return FILE_TYPES["png"]
    if _looks_like_jpeg(fileobj):
        return FILE_TYPES["jpg"]
    if _looks_like_mp4(fileobj):
        return FILE_TYPES["mp4"]
    return None


def check_size(size, limit=None):
    limit = max_upload_bytes() if limit is None else limit
    if size > limit:
        raise UploadRejected(
            _("The file is %(size)s; files up to %(limit)s are accepted. Compress or split it and upload again.")
            % {"size": filesizeformat(size), "limit": filesizeformat(limit)}
        )


def too_large(limit):
    """The refusal for a file found larger than `limit` while streaming (its full size is not known)."""
    return UploadRejected(
        _("The file is larger than %(limit)s, the most accepted. Compress or split it and upload again.")
        % {"limit": filesizeformat(limit)}
    )


def validate_upload(fileobj, name, size, *, types=None):
    """Return the FileType of an upload that may be kept, or raise UploadRejected saying why it may not.

    `fileobj` must be seekable (Django's uploaded files are). Checks, in order: size, type by content (with the
    zip checks before any part is parsed), macros, then that the name's extension agrees with the content.
    `types` are the accepted FileTypes by key (FILE_TYPES, evidence's, by default).
    """
    types = types or FILE_TYPES
    check_size(size)
    file_type = detect_type(fileobj)
    fileobj.seek(0)
    if file_type is not None and file_type.key not in types:
        raise UploadRejected(
            _("This kind of file is not accepted. Upload one of: %(types)s.") % {"types": allowed_types_text(types)}
        )
    if file_type is None:
        if _read_at(fileobj, 0, 8) == OLE2_MAGIC:
            fileobj.seek(0)
            raise UploadRejected(
                _(
                    "This is an old-format or password-protected Office file (.doc, .xls, .ppt or a WPS file). "
                    "Remove any password, save it as .docx, .xlsx or .pptx and upload it again."
                )
            )
        raise UploadRejected(
            _("This kind of file is not accepted. Upload one of: %(types)s.") % {"types": allowed_types_text(types)}
        )
    extension = extension_of(name)
    if extension not in file_type.extensions:
        raise UploadRejected(
            _(
                "The file's content is %(detected)s but its name ends in “%(extension)s”. "
                "Rename it to end in %(expected)s, or upload the right file."
            )
            % {
                "detected": file_type.label,
                "extension": extension or _("(no extension)"),
                "expected": " / ".join(file_type.extensions),
            }
        )
    return file_type


class Kept(NamedTuple):
    """A file as stored: its name in the storage, its sha256 (hex) and its size in bytes."""

    name: str
    sha256: str
    size: int


def keep(file, folder, *, suffix="", max_bytes=None):
    """Store `file` in Django's default storage as `<folder>/<uuid><suffix>` and return it as `Kept`.

    The one way an upload is stored (evidence files, data-set workbooks), so the backend is a setting (STORAGES):
    a folder on disk, or S3. The file is read once to hash it and count its bytes, then handed to the storage:
    past `max_bytes` (default: the upload limit) nothing is stored and UploadRejected is raised, whatever the
    upload claimed its size was. The generated name keeps the user's file name out of the storage, and an existing
    file is never replaced. Callers that record the file use `keeping`, which discards it if recording fails.
    """
    limit = max_upload_bytes() if max_bytes is None else max_bytes
    digest, size = hashlib.sha256(), 0
    file.seek(0)
    while chunk := file.read(CHUNK_SIZE):
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        digest.update(chunk)
    file.seek(0)
    # Wrapped so that the storage copies a temporary upload instead of moving it away from its owner.
    name = default_storage.save(f"{folder}/{uuid.uuid4().hex}{suffix}", File(file))
    return Kept(name, digest.hexdigest(), size)


def discard(name):
    """Remove a stored file that no row will reference (its transaction failed). Missing files are fine."""
    default_storage.delete(name)


@contextmanager
def local_path(name):
    """A path on this machine for the stored file `name`: the file itself when the storage is a folder, otherwise
    a temporary copy removed on exit (the workbook reader wants a path it can seek around in)."""
    if isinstance(storages["default"], FileSystemStorage):
        yield default_storage.path(name)
        return
    with tempfile.NamedTemporaryFile(suffix=PurePosixPath(name).suffix) as copy:
        with default_storage.open(name, "rb") as source:
            shutil.copyfileobj(source, copy, CHUNK_SIZE)
        copy.flush()
        yield copy.name


@contextmanager
def keeping(file, folder, **options):
    """`keep` the file for the block that records it; if the block raises, the file is discarded again."""
    stored = keep(file, folder, **options)
    try:
        yield stored
    except BaseException:
        discard(stored.name)
        raise


class EvidenceUploadLimitHandler(FileUploadHandler):
    """Stops reading a multipart upload once a file passes the evidence size limit.

    Django would otherwise write the whole request body to a temporary file before the view could say no.
    Put it first in ``request.upload_handlers``; afterwards ``too_large`` tells the view what happened.
    """

    def __init__(self, request=None, *, max_bytes):
        super().__init__(request)
        self.max_bytes = max_bytes
        self.too_large = False
        self._received = 0

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self._received = 0

    def receive_data_chunk(self, raw_data, start):
        self._received += len(raw_data)
        if self._received > self.max_bytes:
            self.too_large = True
            # The other handlers' partial temporary files are closed (and so deleted) by the parser.
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size):
        return None

    def refusal(self):
        return too_large(self.max_bytes)
