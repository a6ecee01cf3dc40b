"""List user-facing strings that the zh_Hans catalogue does not translate yet (a test asserts there are none)."""

import ast
import re
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from .compile_catalogue import parse_po

GETTEXT_NAMES = {"_", "gettext", "gettext_lazy", "pgettext", "pgettext_lazy", "ngettext", "ngettext_lazy"}
TEMPLATE_PATTERNS = [
    re.compile(r"""{%\s*(?:trans|translate)\s+"((?:[^"\\]|\\.)*)"""),
    re.compile(r"""{%\s*(?:trans|translate)\s+'((?:[^'\\]|\\.)*)'"""),
    re.compile(r"""_\("((?:[^"\\]|\\.)*)"\)"""),
]
SOURCE_DIRS = ("project", "certification", "workflows")


def python_msgids(path):
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        if name not in GETTEXT_NAMES or not node.args:
            continue
        args = node.args
        if name.startswith("pgettext"):
            if len(args) < 2 or not all(isinstance(a, ast.Constant) for a in args[:2]):
                continue
            yield f"{args[0].value}\x04{args[1].value}"
        elif name.startswith("ngettext"):
            if len(args) >= 2 and all(isinstance(a, ast.Constant) for a in args[:2]):
                yield f"{args[0].value}\x00{args[1].value}"
        elif isinstance(args[0], ast.Constant) and isinstance(args[0].value, str):
            yield args[0].value


def template_msgids(path):
    text = path.read_text(encoding="utf-8")
    for pattern in TEMPLATE_PATTERNS:
        for match in pattern.finditer(text):
            yield match.group(1)
    for block in re.finditer(r"{%\s*blocktrans(?:late)?[^%]*%}(.*?){%\s*endblocktrans(?:late)?\s*%}", text, re.S):
        yield re.sub(r"{{\s*(\w+)\s*}}", r"%(\1)s", block.group(1))


def project_msgids(base_dir):
    found = {}
    for folder in SOURCE_DIRS:
        for path in sorted((base_dir / folder).rglob("*")):
            if "migrations" in path.parts or not path.is_file():
                continue
            if path.suffix == ".py":
                ids = python_msgids(path)
            elif path.suffix in {".html", ".txt"}:
                ids = template_msgids(path)
            else:
                continue
            for msgid in ids:
                found.setdefault(msgid, str(path.relative_to(base_dir)))
    return found


def missing_translations(base_dir=None, locale="zh_Hans"):
    base_dir = Path(base_dir or settings.BASE_DIR)
    po_path = base_dir / "certification" / "locale" / locale / "LC_MESSAGES" / "django.po"
    catalogue = parse_po(po_path.read_text(encoding="utf-8"), str(po_path)) if po_path.exists() else {}
    return {msgid: where for msgid, where in project_msgids(base_dir).items() if msgid not in catalogue}


class Command(BaseCommand):
    help = "Print msgids used in the project that the zh_Hans catalogue lacks, as .po entries to fill in."

    def handle(self, *args, **options):
        missing = missing_translations()
        for msgid, where in sorted(missing.items(), key=lambda item: item[1]):
            self.stdout.write(f"#: {where}")
            if "\x04" in msgid:
                context, msgid = msgid.split("\x04", 1)
                self.stdout.write(f"msgctxt {context!r}".replace("'", '"'))
            self.stdout.write("msgid " + _quote(msgid) + '\nmsgstr ""\n')
        self.stderr.write(f"{len(missing)} missing")


def _quote(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
