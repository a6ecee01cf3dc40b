"""The production storage of static files: WhiteNoise's compressed, content-hashed copies (see STORAGES)."""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class HashedStaticFilesStorage(CompressedManifestStaticFilesStorage):
    """Django's manifest storage, except that a `url()` in a style sheet naming a file nobody ships is left as it
    is instead of stopping `collectstatic`.

    viewflow's Roboto style sheet (viewflow/fonts/roboto/…/roboto-fontface.css) names every weight of the font, and
    viewflow ships only some of them: the browser asks for the others and gets a 404 whatever the storage, as it
    does in development. Every file that exists is still renamed with its hash and referred to by that name.
    """

    def url_converter(self, name, hashed_files, template=None):
        convert = super().url_converter(name, hashed_files, template)

        def converter(matchobj):
            try:
                return convert(matchobj)
            except ValueError:
                return matchobj["matched"]

        return converter
