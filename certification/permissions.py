"""Loading objects through the user's scope. Views use these helpers, never a bare `get_object_or_404`."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _

from certification.models import Application, Role
from certification.models.people import active_roles


def get_application_for(user, pk):
    """The application `pk` if the user may see it. Unknown or out-of-scope ids both answer 404: no existence leak."""
    application = (
        Application.objects.visible_to(user)
        .select_related("cluster__district__parent", "standard")
        .filter(pk=pk)
        .first()
    )
    if application is None:
        raise Http404(_("No such application."))
    return application


def require(condition, message):
    """Raise 403 with `message` unless `condition` holds."""
    if not condition:
        raise PermissionDenied(message)


def can_view_application(user, application):
    """Whether `user` may see `application`: the same scope rule as `Application.objects.visible_to`."""
    if application is None or not user.is_authenticated:
        return False
    return Application.objects.visible_to(user).filter(pk=application.pk).exists()


def is_administrator(user):
    """Superusers and holders of the administrator role: they see drafts and manage standards."""
    if not user.is_authenticated:
        return False
    return user.is_superuser or Role.ADMINISTRATOR in active_roles(user)
