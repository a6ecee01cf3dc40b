from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from certification.backup import BackupError, write_backup


class BackupFolderCommand(BaseCommand):
    """A command on one backup folder; a BackupError becomes a CommandError with its message."""

    folder_help = ""

    def add_arguments(self, parser):
        parser.add_argument("directory", help=self.folder_help)

    def handle(self, *args, directory, **options):
        try:
            self.stdout.write(self.run(directory))
        except BackupError as error:
            raise CommandError(str(error)) from None


class Command(BackupFolderCommand):
    help = "Write the database and every stored file, with a manifest of sha256s, into a new folder."
    folder_help = "A new or empty folder."

    def run(self, directory):
        manifest = write_backup(directory)
        return _("Backup written to %(directory)s: database sha256 %(sha256)s, %(files)s files.") % {
            "directory": directory,
            "sha256": manifest["database"]["sha256"][:12],
            "files": len(manifest["files"]),
        }
