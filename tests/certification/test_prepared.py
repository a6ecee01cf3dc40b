"""`certification.prepared.PreparedRead`: the ORM's statement compiled once, run with each call's values, and the
permission reads built on it answer as the ORM's own queries do."""

from datetime import date

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext

from certification.models import Absence, Region
from certification.prepared import PreparedRead
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db]


def test_each_call_runs_the_statement_compiled_once_with_its_own_values():
    first, second = Region.objects.create(name="甲市", kind="city"), Region.objects.create(name="乙市", kind="city")
    built = []

    def build(pk):
        built.append(pk)
        return Region.objects.filter(pk=pk).values_list("name")

    names = PreparedRead(build, pk=-7_000_001)

    assert names(pk=first.pk) == [("甲市",)]
    with CaptureQueriesContext(connection) as context:
        assert names(pk=second.pk) == [("乙市",)]
        assert names(pk=-1) == []
    assert built == [-7_000_001]
    assert len(context.captured_queries) == 2


def test_a_marker_the_orm_writes_into_the_sql_is_refused():
    # A slice is written into the statement's text, not passed as a parameter: the read would keep the first value.
    rows = PreparedRead(lambda count: Region.objects.values_list("name")[:count], count=7_000_001)

    with pytest.raises(ImproperlyConfigured, match="count"):
        rows(count=1)


def test_model_wide_permissions_come_from_the_user_and_their_groups():
    user = UserFactory()
    group = Group.objects.create(name="prepared-test")
    user.groups.add(group)
    user.user_permissions.add(Permission.objects.get(codename="view_region"))
    group.permissions.add(Permission.objects.get(codename="change_region"))
    others = UserFactory()
    others.user_permissions.add(Permission.objects.get(codename="delete_region"))

    assert user.get_all_permissions() == {"certification.view_region", "certification.change_region"}
    assert user.has_perm("certification.change_region") is True
    assert user.has_perm("certification.delete_region") is False


def test_a_date_is_passed_as_the_backend_takes_it():
    user, substitute = UserFactory(), UserFactory()
    absence = Absence.objects.create(
        user=user, substitute=substitute, starts=date(2026, 5, 1), ends=date(2026, 5, 5), reason="年假"
    )
    away = PreparedRead(lambda day: Absence.objects.on(day).order_by().values_list("pk"), day=date(1901, 2, 3))

    assert away(day=date(2026, 5, 1)) == [(absence.pk,)]
    assert away(day=date(2026, 5, 5)) == [(absence.pk,)]
    assert away(day=date(2026, 5, 6)) == []
