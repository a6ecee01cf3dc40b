"""Compile the project's .po catalogues to .mo without GNU gettext, so a fresh machine needs only Python."""

import ast
import struct
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


def _unquote(line):
    return ast.literal_eval(line)


def parse_po(text, path="<po>"):
    """Return {msgid: msgstr} with contexts as "ctxt\\x04id" and plurals joined by NUL, skipping fuzzy entries."""
    messages = {}
    entry, section, fuzzy = {}, None, False

    def flush():
        nonlocal entry, fuzzy
        if "msgid" in entry and not fuzzy:
            msgid = entry["msgid"]
            if "msgctxt" in entry:
                msgid = entry["msgctxt"] + "\x04" + msgid
            if "msgid_plural" in entry:
                msgid += "\x00" + entry["msgid_plural"]
                forms = [entry[key] for key in sorted(k for k in entry if k.startswith("msgstr["))]
                msgstr = "\x00".join(forms)
            else:
                msgstr = entry.get("msgstr", "")
            if msgstr.replace("\x00", "") or msgid == "":
                messages[msgid] = msgstr
        entry, fuzzy = {}, False

    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            flush()
            section = None
            continue
        if line.startswith("#,") and "fuzzy" in line:
            fuzzy = True
            continue
        if line.startswith("#"):
            continue
        try:
            if line.startswith('"'):
                if section is None:
                    raise CommandError(f"{path}:{number}: continuation line outside an entry")
                entry[section] += _unquote(line)
                continue
            keyword, _space, rest = line.partition(" ")
            if (keyword == "msgctxt" and "msgid" in entry) or (keyword == "msgid" and "msgid" in entry):
                flush()
            entry[keyword] = _unquote(rest)
            section = keyword
        except (SyntaxError, ValueError) as error:
            raise CommandError(f"{path}:{number}: {error}") from None
    flush()
    return messages


def build_mo(messages):
    keys = sorted(messages)
    ids = b""
    strs = b""
    offsets = []
    for key in keys:
        encoded_id, encoded_str = key.encode("utf-8"), messages[key].encode("utf-8")
        offsets.append((len(ids), len(encoded_id), len(strs), len(encoded_str)))
        ids += encoded_id + b"\x00"
        strs += encoded_str + b"\x00"
    count = len(keys)
    keys_start = 7 * 4
    values_start = keys_start + count * 8
    ids_start = values_start + count * 8
    strs_start = ids_start + len(ids)
    key_table, value_table = [], []
    for id_offset, id_length, str_offset, str_length in offsets:
        key_table += [id_length, ids_start + id_offset]
        value_table += [str_length, strs_start + str_offset]
    header = struct.pack("Iiiiiii", 0x950412DE, 0, count, keys_start, values_start, 0, 0)
    return (
        header
        + struct.pack(f"{len(key_table)}i", *key_table)
        + struct.pack(f"{len(value_table)}i", *value_table)
        + ids
        + strs
    )


class Command(BaseCommand):
    help = "Compile every django.po under LOCALE_PATHS to django.mo (pure Python)."

    def handle(self, *args, **options):
        for locale_path in settings.LOCALE_PATHS:
            for po_path in sorted(Path(locale_path).glob("*/LC_MESSAGES/*.po")):
                messages = parse_po(po_path.read_text(encoding="utf-8"), str(po_path))
                po_path.with_suffix(".mo").write_bytes(build_mo(messages))
                self.stdout.write(f"{po_path}: {len(messages) - 1} messages")
