"""The zh_Hans catalogue is complete: every msgid in our code and templates has a translation."""

from certification.management.commands.catalogue_missing import missing_translations
from certification.management.commands.compile_catalogue import build_mo, parse_po


def test_catalogue_translates_every_project_string():
    missing = missing_translations()

    assert missing == {}


def test_parse_po_skips_fuzzy_and_empty_and_joins_continuations():
    text = """msgid ""
msgstr "Language: zh_Hans\\n"

#, fuzzy
msgid "Draft"
msgstr "草稿"

msgid "Empty"
msgstr ""

msgid "Long "
"line"
msgstr "长"
"行"

msgctxt "tier"
msgid "Model"
msgstr "示范"
"""
    messages = parse_po(text)

    assert messages == {"": "Language: zh_Hans\n", "Long line": "长行", "tier\x04Model": "示范"}


def test_build_mo_is_readable_by_gettext(tmp_path):
    import gettext

    path = tmp_path / "django.mo"
    path.write_bytes(
        build_mo({"": "Content-Type: text/plain; charset=UTF-8\n", "Draft": "草稿", "tier\x04Model": "示范"})
    )

    with path.open("rb") as handle:
        catalogue = gettext.GNUTranslations(handle)

    assert catalogue.gettext("Draft") == "草稿"
    assert catalogue.pgettext("tier", "Model") == "示范"
    assert catalogue.gettext("Unknown") == "Unknown"
