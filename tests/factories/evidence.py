"""Evidence test data: applications with evidence requirements, their leads, and files generated in code.

Every sample file is built here from bytes (nothing binary is committed): minimal but structurally real PDF, PNG,
JPEG, MP4 and Office Open XML packages, plus the hostile ones (zip bombs, macro workbooks, disguised files).
"""

import io
import struct
import zipfile
import zlib

from django.core.files.uploadedfile import SimpleUploadedFile

from certification.domain.roles import grant_role
from certification.models import Application, EvidenceRequirement, Role, Tier

from . import ClusterFactory, UserFactory, published_standard

# --- applications -------------------------------------------------------------------------------------------------

EVIDENCE_SPECS = [
    {
        "code": "A1",
        "title": "章程与议事规则",
        "max_score": 4,
        "method": "scored",
        "evidence": [
            {"stage": "basic", "code": "A1-charter", "title": "学区章程"},
            {"stage": "basic", "code": "A1-minutes", "title": "委员会会议纪要", "required": False},
        ],
    },
    {
        "code": "A2",
        "title": "教师交流轮岗",
        "max_score": 6,
        "method": "scored",
        "evidence": [
            {"stage": "process", "code": "A2-roster", "title": "交流轮岗名单"},
            {"stage": "outcome", "code": "A2-survey", "title": "满意度调查"},
        ],
    },
]


def evidence_standard():
    return published_standard(Tier.CLOSE_KNIT, indicators=[dict(spec) for spec in EVIDENCE_SPECS])


def make_application(*, cluster=None, standard=None, status=Application.Status.EVIDENCE):
    cluster = cluster or ClusterFactory()
    standard = standard or evidence_standard()
    return Application.objects.create(
        cluster=cluster,
        target_tier=standard.tier,
        standard=standard,
        year=2025,
        status=status,
        opened_by=UserFactory(),
    )


def make_lead(cluster):
    user = UserFactory()
    grant_role(user, Role.LEAD, cluster=cluster)
    return user


def requirement(application, code):
    return EvidenceRequirement.objects.get(indicator__dimension__standard=application.standard, code=code)


def upload(content, name):
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


# --- sample files -------------------------------------------------------------------------------------------------


def pdf_bytes(text="evidence"):
    body = (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
        b"% " + text.encode() + b"\n"
    )
    xref_at = len(body)
    return body + b"xref\n0 4\ntrailer<</Size 4/Root 1 0 R>>\nstartxref\n" + str(xref_at).encode() + b"\n%%EOF\n"


def _png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bytes():
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", pixels) + _png_chunk(b"IEND", b"")


def jpeg_bytes():
    # SOI, a JFIF APP0 segment, a comment, EOI: the structure a sniffer reads.
    app0 = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    comment = b"evidence"
    return (
        b"\xff\xd8"
        + b"\xff\xe0"
        + struct.pack(">H", len(app0) + 2)
        + app0
        + b"\xff\xfe"
        + struct.pack(">H", len(comment) + 2)
        + comment
        + b"\xff\xd9"
    )


def _box(kind, payload):
    return struct.pack(">I", len(payload) + 8) + kind + payload


def mp4_bytes(major=b"isom"):
    ftyp = _box(b"ftyp", major + struct.pack(">I", 512) + b"isomiso2avc1mp41")
    mvhd = _box(b"mvhd", b"\x00" * 100)
    return ftyp + _box(b"moov", mvhd) + _box(b"mdat", b"\x00" * 16)


CONTENT_TYPES_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
)

OFFICE = {
    "docx": (
        "word/document.xml",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        "<w:body><w:p><w:r><w:t>学区章程</w:t></w:r></w:p></w:body></w:document>",
    ),
    "xlsx": (
        "xl/workbook.xml",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheets/></workbook>',
    ),
    "pptx": (
        "ppt/presentation.xml",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
        '<p:presentation xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"/>',
    ),
}
MACRO_MAIN = {
    "docx": "application/vnd.ms-word.document.macroEnabled.main+xml",
    "xlsx": "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    "pptx": "application/vnd.ms-powerpoint.presentation.macroEnabled.main+xml",
}


def office_bytes(kind, *, main_type=None, overrides=(), entries=()):
    """A minimal Office Open XML package of `kind` (docx/xlsx/pptx).

    `main_type` replaces the main part's content type, `overrides` adds (part, content type) pairs to
    [Content_Types].xml and `entries` adds (name, bytes) parts.
    """
    main_part, default_main_type, main_xml = OFFICE[kind]
    parts = [(f"/{main_part}", main_type or default_main_type), *overrides]
    content_types = (
        CONTENT_TYPES_HEAD
        + "".join(f'<Override PartName="{part}" ContentType="{content_type}"/>' for part, content_type in parts)
        + "</Types>"
    )
    rels = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        f'officeDocument" Target="{main_part}"/></Relationships>'
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", content_types)
        archive.writestr("_rels/.rels", rels)
        archive.writestr(main_part, main_xml)
        for name, data in entries:
            archive.writestr(name, data)
    return buffer.getvalue()


def openpyxl_xlsx_bytes(rows=3):
    """A real workbook written by openpyxl, as Excel users will upload."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["教师", "调出学校", "调入学校"])
    for n in range(rows):
        sheet.append([f"教师{n}", "天平路小学", "湖南路小学"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def zip_bomb_xlsx(megabytes=20):
    """An xlsx whose one sheet part inflates ~1000:1 (zeros), well under the upload size limit when compressed."""
    buffer = io.BytesIO()
    main_part, main_type, main_xml = OFFICE["xlsx"]
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr(
            "[Content_Types].xml",
            CONTENT_TYPES_HEAD + f'<Override PartName="/{main_part}" ContentType="{main_type}"/></Types>',
        )
        archive.writestr(main_part, main_xml)
        with archive.open("xl/worksheets/sheet1.xml", "w") as part:
            zeros = b"\x00" * (1024 * 1024)
            for _ in range(megabytes):
                part.write(zeros)
    return buffer.getvalue()


def many_entries_xlsx(count):
    return office_bytes("xlsx", entries=[(f"xl/media/p{n}.xml", b"<a/>") for n in range(count)])


def xlsm_bytes():
    """What Excel writes for a macro workbook (.xlsm): macro-enabled main type plus a vbaProject.bin part."""
    return office_bytes(
        "xlsx",
        main_type=MACRO_MAIN["xlsx"],
        overrides=[("/xl/vbaProject.bin", "application/vnd.ms-office.vbaProject")],
        entries=[("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64)],
    )


def docx_with_vba_bytes():
    """A .docx whose content types look clean but which carries a vbaProject.bin part."""
    return office_bytes("docx", entries=[("word/vbaProject.bin", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64)])


def exe_bytes():
    return b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"This program cannot be run"


def html_bytes():
    return b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"


SAMPLES = {
    "pdf": (pdf_bytes, "章程.pdf", "application/pdf"),
    "docx": (
        lambda: office_bytes("docx"),
        "会议纪要.docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    "xlsx": (
        openpyxl_xlsx_bytes,
        "轮岗名单.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    "pptx": (
        lambda: office_bytes("pptx"),
        "汇报.pptx",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ),
    "jpg": (jpeg_bytes, "照片.jpg", "image/jpeg"),
    "jpeg": (jpeg_bytes, "照片.JPEG", "image/jpeg"),
    "png": (png_bytes, "场地.png", "image/png"),
    "mp4": (mp4_bytes, "课堂实录.mp4", "video/mp4"),
}


def stored_files(media):
    """Every file under `media`, as relative paths: empty when nothing was stored."""
    return sorted(str(path.relative_to(media)) for path in media.rglob("*") if path.is_file()) if media.exists() else []
