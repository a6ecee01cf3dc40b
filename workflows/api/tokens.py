"""Personal API tokens: created and revoked by their owner, stored as the SHA-256 of a random secret.

The secret is returned once, by `create_token`; afterwards only its digest and first characters exist, so a leaked
database gives no usable token. A revoked token is refused on the very next request: every request looks the
token up again (no cache).
"""

import hashlib
import secrets

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from certification.domain import audit
from certification.errors import IllegalTransition, InvalidInput, NotAllowed
from certification.models import ApiToken

KEYWORD = "Bearer"
SECRET_PREFIX = "xqrz_"
PREFIX_LENGTH = 12
MAX_ACTIVE_TOKENS = 10


def digest_of(secret):
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_token(user, name, *, by):
    """A new token for `user`; returns (token, secret). Only `user` may create their own tokens.

    Side effects: an audit row `api_token.created` (without the secret).
    """
    name = (name or "").strip()
    if not name:
        raise InvalidInput(_("Give the token a name, e.g. the system that will use it."))
    if by.pk != user.pk:
        raise NotAllowed(_("Only the owner may create their API tokens."))
    with transaction.atomic():
        if ApiToken.objects.active().filter(user=user).count() >= MAX_ACTIVE_TOKENS:
            raise IllegalTransition(
                _("You already have %(count)s active tokens; revoke one first.") % {"count": MAX_ACTIVE_TOKENS}
            )
        secret = SECRET_PREFIX + secrets.token_urlsafe(32)
        token = ApiToken.objects.create(
            user=user, name=name[:100], prefix=secret[:PREFIX_LENGTH], digest=digest_of(secret)
        )
        audit.record("api_token.created", actor=by, obj=token, payload={"name": token.name, "prefix": token.prefix})
    return token, secret


def revoke_token(token, *, by):
    """Revoke `token` at once. Only its owner may; revoking twice is refused.

    Side effects: an audit row `api_token.revoked`.
    """
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().get(pk=token.pk)
        if token.user_id != by.pk:
            raise NotAllowed(_("Only the owner may revoke this API token."))
        if token.revoked is not None:
            raise IllegalTransition(_("This token has already been revoked."))
        token.revoked = timezone.now()
        token.save(update_fields=["revoked"])
        audit.record("api_token.revoked", actor=by, obj=token, payload={"name": token.name, "prefix": token.prefix})
    return token


class TokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <secret>``. Unknown, revoked or inactive-user tokens are refused with 401."""

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].decode("latin-1") != KEYWORD:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("The Authorization header must be “Bearer <token>”."))
        try:
            secret = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked API token.")) from None
        token = ApiToken.objects.active().select_related("user").filter(digest=digest_of(secret)).first()
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked API token."))
        now = timezone.now()
        # Written at most once a minute: a busy system must not turn every read into a write.
        if token.last_used is None or (now - token.last_used).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used=now)
        return token.user, token

    def authenticate_header(self, request):
        return KEYWORD


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    """How the schema describes the token: an HTTP bearer scheme."""

    target_class = TokenAuthentication
    name = "token"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": _("A personal API token from your profile page.")}
