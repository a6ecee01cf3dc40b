from django.utils.translation import gettext as _

from certification.backup import restore_backup

from .backup import BackupFolderCommand


class Command(BackupFolderCommand):
    help = (
        "Restore a backup written by `manage.py backup` into an empty database and storage, checking every sha256 "
        "and the audit chain."
    )
    folder_help = "The backup's folder (with manifest.json)."

    def run(self, directory):
        restored = restore_backup(directory)
        return _("Restored from %(directory)s: %(files)s files, %(events)s audit events; the audit chain verifies.") % {
            "directory": directory,
            **restored,
        }
