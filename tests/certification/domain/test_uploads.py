"""Content sniffing, zip checks, file names and streaming copies, without the database."""

import hashlib
import io
import struct
import zipfile

import pytest
from django.test import override_settings

from certification import uploads
from certification.uploads import UploadRejected
from tests.factories import evidence as samples


@pytest.mark.parametrize("kind", ["pdf", "docx", "xlsx", "pptx", "jpg", "jpeg", "png", "mp4"])
def test_validate_upload_accepts_each_allowed_type(kind):
    build, name, content_type = samples.SAMPLES[kind]
    content = build()

    file_type = uploads.validate_upload(io.BytesIO(content), name, len(content))

    assert file_type.content_type == content_type


NOT_ACCEPTED = (
    "不接受此类文件。请上传以下类型之一：PDF、Word (.docx)、Excel (.xlsx)、PowerPoint (.pptx)、JPEG、PNG、MP4。"
)
MACROS = "文件包含宏（VBA）。不接受启用宏的 Office 文件：请另存为不含宏的 .docx、.xlsx 或 .pptx 后重新上传。"


def refusal(content, name):
    with pytest.raises(UploadRejected) as refused:
        uploads.validate_upload(io.BytesIO(content), name, len(content))
    assert refused.value.status == 400
    return refused.value.message


def zip_of(*entries):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (samples.exe_bytes(), "章程.pdf"),
        (samples.html_bytes(), "章程.pdf"),
        (b"%PDF-1.4 but no end of file marker", "章程.pdf"),
        (b"", "空.pdf"),
        (b"PK\x03\x04 not really a zip", "名单.xlsx"),
        (zip_of(("payload.exe", samples.exe_bytes())), "名单.xlsx"),
        (samples.mp4_bytes(major=b"qt  ").replace(b"isomiso2avc1mp41", b"qt  qt  qt  qt  "), "课堂.mp4"),
        (samples.exe_bytes() + samples.office_bytes("docx"), "纪要.docx"),
    ],
    ids=[
        "exe-as-pdf",
        "html-as-pdf",
        "pdf-without-eof",
        "empty",
        "broken-zip",
        "zip-without-office-main-part",
        "quicktime-as-mp4",
        "exe-with-docx-appended",
    ],
)
def test_validate_upload_unknown_content_refused_naming_allowed_types(content, name):
    assert refusal(content, name) == NOT_ACCEPTED


@pytest.mark.parametrize(
    ("build", "name", "message"),
    [
        (
            samples.png_bytes,
            "会议纪要.docx",
            "文件内容是 PNG，但文件名以“.docx”结尾。请将扩展名改为 .png，或上传正确的文件。",
        ),
        (
            samples.pdf_bytes,
            "照片.png",
            "文件内容是 PDF，但文件名以“.png”结尾。请将扩展名改为 .pdf，或上传正确的文件。",
        ),
        (
            lambda: samples.office_bytes("docx"),
            "名单.xlsx",
            "文件内容是 Word (.docx)，但文件名以“.xlsx”结尾。请将扩展名改为 .docx，或上传正确的文件。",
        ),
        (
            samples.jpeg_bytes,
            "照片.png",
            "文件内容是 JPEG，但文件名以“.png”结尾。请将扩展名改为 .jpg / .jpeg，或上传正确的文件。",
        ),
        (
            samples.mp4_bytes,
            "课堂实录",
            "文件内容是 MP4，但文件名以“（无扩展名）”结尾。请将扩展名改为 .mp4，或上传正确的文件。",
        ),
    ],
    ids=["png-as-docx", "pdf-as-png", "docx-as-xlsx", "jpeg-as-png", "mp4-without-extension"],
)
def test_validate_upload_extension_disagreeing_with_content_refused(build, name, message):
    assert refusal(build(), name) == message


def test_validate_upload_office_template_type_refused():
    # An .xltx (template) is a zip with another main content type: not on the list.
    content = samples.office_bytes(
        "xlsx", main_type="application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml"
    )

    assert refusal(content, "模板.xlsx") == NOT_ACCEPTED


def test_validate_upload_content_types_with_dtd_refused():
    poisoned = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(samples.office_bytes("docx"))) as source, zipfile.ZipFile(poisoned, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "[Content_Types].xml":
                data = data.replace(b"<Types", b'<!DOCTYPE t [<!ENTITY a "aaaa">]><Types', 1)
            target.writestr(info, data)

    assert refusal(poisoned.getvalue(), "纪要.docx") == NOT_ACCEPTED


@override_settings(EVIDENCE_MAX_UPLOAD_BYTES=1000)
def test_validate_upload_over_size_refused_with_limit():
    content = samples.pdf_bytes().ljust(2048, b"\n")

    assert refusal(content, "章程.pdf") == "文件大小为 2.0\xa0KB，最大允许 1000\xa0字节。请压缩或拆分后重新上传。"


def test_validate_upload_zip_bomb_ratio_refused_before_inflating():
    content = samples.zip_bomb_xlsx(megabytes=20)
    assert len(content) < 100 * 1024  # the bomb is small on the wire

    assert refusal(content, "名单.xlsx") == "文件中有部件的压缩比超过 200:1，疑似压缩炸弹，已拒收。"


@override_settings(EVIDENCE_ZIP_MAX_ENTRY_RATIO=10_000)
def test_validate_upload_zip_overall_ratio_refused():
    content = samples.zip_bomb_xlsx(megabytes=20)

    assert refusal(content, "名单.xlsx") == "文件整体压缩比超过 100:1，疑似压缩炸弹，已拒收。"


@override_settings(EVIDENCE_ZIP_MAX_UNCOMPRESSED_BYTES=5 * 1024 * 1024)
def test_validate_upload_zip_declared_size_over_limit_refused():
    content = samples.zip_bomb_xlsx(megabytes=6)

    assert refusal(content, "名单.xlsx") == "文件解压后为 6.0\xa0MB，超过允许的 5.0\xa0MB。该文件疑似压缩炸弹，已拒收。"


def test_validate_upload_zip_too_many_entries_refused():
    content = samples.many_entries_xlsx(uploads.ZIP_MAX_ENTRIES + 1)

    assert (
        refusal(content, "名单.xlsx") == "文件包含 2004 个部件，最多允许 2000 个。请用 Office 重新保存或拆分后再上传。"
    )


@pytest.mark.filterwarnings("ignore:Duplicate name")
def test_validate_upload_zip_duplicate_part_refused():
    content = samples.office_bytes("xlsx", entries=[("xl/workbook.xml", b"<other/>")])

    assert (
        refusal(content, "名单.xlsx") == "文件是损坏的 Office 文件包（有部件重复出现）。请用 Office 重新保存后再上传。"
    )


def test_validate_upload_many_small_entries_under_limit_accepted():
    content = samples.many_entries_xlsx(100)

    file_type = uploads.validate_upload(io.BytesIO(content), "名单.xlsx", len(content))

    assert file_type.key == "xlsx"


@pytest.mark.parametrize(
    ("build", "name"),
    [
        (samples.xlsm_bytes, "宏.xlsx"),
        (samples.xlsm_bytes, "宏.xlsm"),
        (samples.docx_with_vba_bytes, "纪要.docx"),
        (lambda: samples.office_bytes("pptx", main_type=samples.MACRO_MAIN["pptx"]), "汇报.pptx"),
        (lambda: samples.office_bytes("docx", main_type=samples.MACRO_MAIN["docx"]), "纪要.docx"),
    ],
    ids=["xlsm-renamed-xlsx", "xlsm", "docx-with-vbaproject", "pptm-main-type", "docm-main-type"],
)
def test_validate_upload_macro_enabled_office_refused(build, name):
    assert refusal(build(), name) == MACROS


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("/var/www/html/index.pdf", "index.pdf"),
        ("C:\\Users\\学区\\章程.pdf", "章程.pdf"),
        ("..\\..\\boot.ini.png", "boot.ini.png"),
        ("章程\x00.exe.pdf", "章程.exe.pdf"),
        ("报告\r\nSet-Cookie: x.pdf", "报告 Set-Cookie_ x.pdf"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
        ("\u2066名单\u2069.xlsx", "名单.xlsx"),
        ('a"b<c>d|e?f*.pdf', "a_b_c_d_e_f_.pdf"),
        ("...", "file"),
        (".pdf", "file.pdf"),
        ("  天平-湖南学区  章程 .pdf ", "天平-湖南学区 章程.pdf"),
        ("长" * 300 + ".pdf", "长" * 146 + ".pdf"),
    ],
)
def test_sanitise_filename_strips_paths_controls_and_bidi(raw, safe):
    assert uploads.sanitise_filename(raw) == safe


def test_keep_streams_and_hashes(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    content = samples.pdf_bytes("x" * 200_000)

    stored = uploads.keep(io.BytesIO(content), "evidence/7", suffix=".pdf", max_bytes=10**6)

    assert (stored.sha256, stored.size) == (hashlib.sha256(content).hexdigest(), len(content))
    assert (tmp_path / stored.name).read_bytes() == content


def test_keep_over_limit_leaves_no_partial_file(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path

    with pytest.raises(UploadRejected) as refused:
        uploads.keep(io.BytesIO(b"x" * 300_000), "evidence/7", suffix=".pdf", max_bytes=100_000)

    assert refused.value.message == "文件超过允许的最大大小 97.7\xa0KB。请压缩或拆分后重新上传。"

    assert list(tmp_path.iterdir()) == []


def test_keep_never_overwrites(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path

    earlier = uploads.keep(io.BytesIO(b"earlier"), "evidence/7", max_bytes=100)
    later = uploads.keep(io.BytesIO(b"later"), "evidence/7", max_bytes=100)

    assert earlier.name != later.name
    assert (tmp_path / earlier.name).read_bytes() == b"earlier"


def test_validate_upload_zip_entry_count_read_from_end_record_before_zipfile_parses():
    # An end record claiming 60,000 entries over a directory that is not there: refused on the claim alone,
    # before zipfile would build an object per entry.
    end_record = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 60000, 60000, 2_760_000, 4, 0)
    content = b"PK\x03\x04" + b"\x00" * 64 + end_record

    assert (
        refusal(content, "名单.xlsx") == "文件包含 60000 个部件，最多允许 2000 个。请用 Office 重新保存或拆分后再上传。"
    )


def test_validate_upload_zip_directory_too_large_refused():
    end_record = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 10, 10, 5 * 1024 * 1024, 4, 0)
    content = b"PK\x03\x04" + b"\x00" * 64 + end_record

    assert refusal(content, "名单.xlsx") == "文件的 zip 目录过大，不像 Office 文档。请用 Office 重新保存后再上传。"


@pytest.mark.parametrize("name", ["旧格式.xls", "旧格式.doc", "加密.docx", "报告.wps"])
def test_validate_upload_ole2_file_refused_with_save_as_advice(name):
    content = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504

    assert refusal(content, name) == (
        "这是旧格式或设有密码的 Office 文件（.doc、.xls、.ppt 或 WPS 文件）。"
        "请取消密码，另存为 .docx、.xlsx 或 .pptx 后重新上传。"
    )
