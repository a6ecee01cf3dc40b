"""Backups that restore: the database as Django's portable serialization plus every stored file, with a manifest of
sha256s.

Why `dumpdata` rather than `pg_dump`: one format, written and read by the same code on SQLite (the embedded
default) and PostgreSQL (production), restorable across them, and exercised by the normal test suite on both. It
keeps primary keys, which the audit chain's hashes include (actor ids), and writes references to content types
and permissions by natural key, so the rows that `migrate` recreates on the empty database line up. The cost is
speed on a very large database; `pg_dump` remains the tool for that, described in the README. The XML format, not
JSON: Django's JSON encoder cuts datetimes to milliseconds, and the audit chain hashes them to the microsecond.

A backup is a folder:

    manifest.json   format, when, database engine, the dump's sha256, every file's name, size and sha256
    database.xml    `dumpdata --natural-foreign` of every table but sessions, content types and permissions
    files/<name>    every file of the default storage (STORAGES), under the name the rows use

Restore goes into an empty database and an empty storage only: it checks every sha256 before it touches anything,
migrates, loads the rows, writes the files back (hashing them again as they are read from the storage) and
verifies the audit chain.
"""

import hashlib
import json
import shutil
from pathlib import Path

from django.apps import apps
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, connection, transaction
from django.utils import timezone

from certification.domain import audit

FORMAT = 1
MANIFEST = "manifest.json"
DATABASE = "database.xml"
FILES = "files"
CHUNK_SIZE = 1024 * 1024
# Recreated by `migrate` (content types, permissions) or not worth restoring (sessions: everyone signs in again).
EXCLUDED = ["contenttypes", "auth.permission", "sessions"]


class BackupError(Exception):
    """A backup cannot be written or restored; the message says why, and nothing was changed."""


def _sha256_of(handle):
    digest, size = hashlib.sha256(), 0
    while chunk := handle.read(CHUNK_SIZE):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def stored_names(folder=""):
    """Every file name in the default storage, recursively, sorted."""
    try:
        directories, files = default_storage.listdir(folder)
    except FileNotFoundError:
        return []
    prefix = f"{folder}/" if folder else ""
    names = [prefix + name for name in files]
    for directory in directories:
        names.extend(stored_names(prefix + directory))
    return sorted(names)


def write_backup(directory):
    """Write a backup of the database and the stored files into the new or empty folder `directory`.

    The rows are read in one transaction (on PostgreSQL a read-only snapshot, so they are consistent with each
    other), then the files are copied: a file stored meanwhile is an extra, never a missing one, because stored
    files are only removed once no row names them. Returns the manifest.
    """
    directory = Path(directory)
    if directory.exists() and any(directory.iterdir()):
        raise BackupError(f"{directory} is not empty; a backup never overwrites another")
    (directory / FILES).mkdir(parents=True, exist_ok=True)
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        # Only the transaction's first statement may choose its isolation (not so inside a caller's transaction).
        if connection.vendor == "postgresql" and outermost:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        call_command(
            "dumpdata",
            exclude=EXCLUDED,
            natural_foreign=True,
            format="xml",
            output=str(directory / DATABASE),
            verbosity=0,
        )
    with (directory / DATABASE).open("rb") as dump:
        database_sha256, database_size = _sha256_of(dump)
    files = []
    for name in stored_names():
        target = directory / FILES / name
        target.parent.mkdir(parents=True, exist_ok=True)
        with default_storage.open(name, "rb") as source, target.open("wb") as copy:
            shutil.copyfileobj(source, copy, CHUNK_SIZE)
        with target.open("rb") as copy:
            sha256, size = _sha256_of(copy)
        files.append({"name": name, "size": size, "sha256": sha256})
    manifest = {
        "format": FORMAT,
        "created": timezone.now().isoformat(),
        "engine": connection.vendor,
        "database": {"file": DATABASE, "size": database_size, "sha256": database_sha256},
        "files": files,
    }
    (directory / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    return manifest


def _read_manifest(directory):
    try:
        manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise BackupError(f"{directory / MANIFEST} cannot be read: {error}") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{directory} is a backup of format {manifest.get('format')!r}; this version reads {FORMAT}")
    return manifest


def _check_hashes(directory, manifest):
    """Every file of the backup is present with its recorded size and sha256; raise listing those that are not."""
    wrong = []
    entries = [(DATABASE, manifest["database"])] + [(Path(FILES) / e["name"], e) for e in manifest["files"]]
    for relative, entry in entries:
        path = directory / relative
        if not path.is_file():
            wrong.append(f"{relative}: missing")
            continue
        with path.open("rb") as handle:
            if _sha256_of(handle) != (entry["sha256"], entry["size"]):
                wrong.append(f"{relative}: sha256 or size differs from the manifest")
    if wrong:
        raise BackupError("the backup is damaged: " + "; ".join(wrong))


# Tables a migration fills (the seeded holiday calendar): `migrate` on an empty database writes them, and the backup
# holds them as they were, so restore replaces them.
SEEDED_BY_MIGRATIONS = ("certification.calendarday",)


def _check_empty():
    """Refuse a database with rows (beyond what `migrate` creates) or a storage with files."""
    excluded = {"contenttypes.contenttype", "auth.permission", "sessions.session", *SEEDED_BY_MIGRATIONS}
    filled = [
        model._meta.label_lower
        for model in apps.get_models()
        if model._meta.label_lower not in excluded
        and model._meta.managed
        and not model._meta.proxy
        and model._base_manager.exists()
    ]
    if filled:
        raise BackupError("restore needs an empty database; these tables have rows: " + ", ".join(sorted(filled)))
    present = stored_names()
    if present:
        raise BackupError(f"restore needs an empty storage; it holds {len(present)} files, e.g. {present[0]}")


def restore_backup(directory):
    """Restore the backup in `directory` into an empty database and an empty storage; return what was restored.

    Checks every sha256 first (a damaged backup changes nothing), migrates, loads the rows in one transaction,
    writes each file under its own name and checks its sha256 as read back from the storage, and finally
    verifies the audit chain. Raises BackupError when any step finds a problem.
    """
    directory = Path(directory)
    manifest = _read_manifest(directory)
    _check_hashes(directory, manifest)
    call_command("migrate", interactive=False, verbosity=0, database=DEFAULT_DB_ALIAS)
    _check_empty()
    with transaction.atomic():
        for label in SEEDED_BY_MIGRATIONS:
            apps.get_model(label)._base_manager.all().delete()
        call_command("loaddata", str(directory / DATABASE), verbosity=0)
    for entry in manifest["files"]:
        with (directory / FILES / entry["name"]).open("rb") as source:
            saved = default_storage.save(entry["name"], File(source))
        if saved != entry["name"]:
            raise BackupError(f"the storage renamed {entry['name']} to {saved}")
        with default_storage.open(saved, "rb") as restored:
            if _sha256_of(restored) != (entry["sha256"], entry["size"]):
                raise BackupError(f"{saved} differs from the backup after it was written")
    broken = audit.verify_chain()
    if broken is not None:
        raise BackupError(f"the restored audit chain does not verify at event {broken.pk}")
    return {"files": len(manifest["files"]), "events": apps.get_model("certification", "AuditEvent").objects.count()}
