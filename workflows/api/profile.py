"""The profile page where a person creates and revokes their own API tokens. A new token's secret is shown once."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from certification.errors import DomainError
from certification.models import ApiToken
from certification.views.site import draw_in_site

from .tokens import create_token, revoke_token


class NewTokenForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": gettext_lazy("e.g. the district's personnel system")}),
    )


def _page(request, form, *, secret=None, status=200):
    draw_in_site(request)
    context = {"tokens": request.user.api_tokens.all(), "form": form, "secret": secret}
    return render(request, "certification/api/tokens.html", context, status=status)


@never_cache
@login_required
def token_page(request):
    if request.method != "POST":
        return _page(request, NewTokenForm())
    form = NewTokenForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=400)
    try:
        _token, secret = create_token(request.user, form.cleaned_data["name"], by=request.user)
    except DomainError as refused:
        form.add_error(None, refused.message)
        return _page(request, form, status=refused.status)
    # Rendered, not redirected: the secret exists only in this response.
    return _page(request, NewTokenForm(), secret=secret, status=201)


@login_required
@require_POST
def revoke(request, pk):
    token = ApiToken.objects.filter(user=request.user, pk=pk).first()
    if token is None:
        raise Http404(_("No such token."))
    revoke_token(token, by=request.user)
    messages.success(request, _("The token “%(name)s” was revoked; it no longer works.") % {"name": token.name})
    return redirect("api_tokens")
