"""The page language: Chinese unless the user chose English with the shell's language switch."""

from django.conf import settings
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import check_for_language, get_supported_language_variant


class ChosenLanguageMiddleware:
    """Activate the language in the language cookie (set by django's set_language view), else LANGUAGE_CODE.

    Django's LocaleMiddleware would follow the browser's Accept-Language, so anyone with an English-language
    browser would land on English pages. The product is Chinese by default; English is a choice the user makes.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = settings.LANGUAGE_CODE
        if chosen and check_for_language(chosen):
            try:
                language = get_supported_language_variant(chosen)
            except LookupError:
                language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        patch_vary_headers(response, ("Cookie",))
        response.headers.setdefault("Content-Language", request.LANGUAGE_CODE)
        return response
