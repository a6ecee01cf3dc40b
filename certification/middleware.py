from django.shortcuts import render

from certification.errors import DomainError


class DomainErrorMiddleware:
    """A refused domain rule is a page that explains itself (403/409/400), never a server error."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, DomainError):
            return render(
                request,
                "certification/domain_error.html",
                {"message": exception.message, "status": exception.status},
                status=exception.status,
            )
        return None
