"""Object permissions are read once per request (certification.permission_cache), never across requests, and a
change of permissions during the request is seen at once."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from guardian.shortcuts import assign_perm, remove_perm

from certification.models import Application
from certification.models.people import active_roles
from certification.permission_cache import PermissionCacheMiddleware
from tests.factories import UserFactory
from tests.factories.work import ApplicationFactory

pytestmark = [pytest.mark.django_db]

PERM = "certification.act_as_district_office"


def in_request(function):
    """Run `function()` as a view would: inside the middleware's per-request cache."""
    result = []
    PermissionCacheMiddleware(lambda request: result.append(function()))(object())
    return result[0]


def test_a_request_reads_each_objects_permissions_once_whatever_the_instance():
    user, application = UserFactory(), ApplicationFactory()
    assign_perm(PERM, user, application)
    again = Application.objects.get(pk=application.pk)  # the domain step's own (locked) instance

    def checks():
        with CaptureQueriesContext(connection) as context:
            answers = [user.has_perm(PERM, application), user.has_perm(PERM, again), user.has_perm(PERM, again)]
        return answers, len(context.captured_queries)

    answers, queries = in_request(checks)
    assert answers == [True, True, True]
    assert queries == 1


def test_group_permissions_count_too():
    user, application = UserFactory(), ApplicationFactory()
    group = Group.objects.create(name="office-test")
    user.groups.add(group)
    assign_perm(PERM, group, application)
    assert in_request(lambda: user.has_perm(PERM, application)) is True
    assert in_request(lambda: user.has_perm("certification.act_as_lead", application)) is False


def test_a_change_during_the_request_is_seen_at_once():
    user, application = UserFactory(), ApplicationFactory()
    assign_perm(PERM, user, application)

    def revoke_between():
        before = user.has_perm(PERM, application)
        remove_perm(PERM, user, application)
        return before, user.has_perm(PERM, application)

    assert in_request(revoke_between) == (True, False)


def test_nothing_is_kept_between_requests_or_outside_one():
    user, application = UserFactory(), ApplicationFactory()
    assert in_request(lambda: user.has_perm(PERM, application)) is False
    assign_perm(PERM, user, application)
    assert in_request(lambda: user.has_perm(PERM, application)) is True
    remove_perm(PERM, user, application)
    assert user.has_perm(PERM, application) is False  # outside a request: guardian's own answer


def test_roles_are_read_once_per_request_and_fresh_outside():
    user = UserFactory()

    def twice():
        with CaptureQueriesContext(connection) as context:
            first, second = active_roles(user), active_roles(user)
        return first == second, len(context.captured_queries)

    assert in_request(twice) == (True, 1)
    with CaptureQueriesContext(connection) as context:
        active_roles(user)
        active_roles(user)
    assert len(context.captured_queries) == 2
