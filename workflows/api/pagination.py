from django.utils.translation import gettext_lazy as _
from rest_framework.pagination import PageNumberPagination


class Pages(PageNumberPagination):
    """Numbered pages with the total count; ?page_size= up to 200."""

    page_size = 50
    page_size_query_param = "page_size"
    page_size_query_description = _("Rows per page (at most 200).")
    page_query_description = _("Page number.")
    max_page_size = 200
