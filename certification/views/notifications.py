"""The bell's page: a person's own notifications, opening one, marking them read. Nobody sees another's."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import ListView

from certification.domain import notify
from certification.models import Notification


def _own_notification(user, pk):
    notification = Notification.objects.filter(recipient=user, pk=pk).first()
    if notification is None:
        raise Http404(_("No such notification."))
    return notification


class NotificationListView(LoginRequiredMixin, ListView):
    template_name = "certification/notifications/list.html"
    paginate_by = 50
    context_object_name = "notifications"

    def get_queryset(self):
        return self.request.user.notifications.select_related("application__cluster").order_by("-created", "-pk")


class OpenNotificationView(LoginRequiredMixin, View):
    """Follow the notification's link (a local link only; anything else lands on the list).

    The list's button POSTs here, which marks the notification read first; a GET (a bookmarked or shared link)
    only follows it: reads stay reads.
    """

    def post(self, request, pk):
        notification = _own_notification(request.user, pk)
        notify.mark_read(notification, by=request.user)
        return self._follow(request, notification)

    def get(self, request, pk):
        return self._follow(request, _own_notification(request.user, pk))

    def _follow(self, request, notification):
        target = notification.url
        if not target or not url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return redirect("work:notifications")
        return redirect(target)


class MarkReadView(LoginRequiredMixin, View):
    def post(self, request, pk):
        notify.mark_read(_own_notification(request.user, pk), by=request.user)
        return redirect("work:notifications")


class MarkAllReadView(LoginRequiredMixin, View):
    def post(self, request):
        count = notify.mark_all_read(request.user)
        messages.success(request, _("%(count)s notifications marked as read.") % {"count": count})
        return redirect("work:notifications")
