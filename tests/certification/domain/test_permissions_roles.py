"""Role groups and guardian object permissions follow the grants and assignments, and sync_roles restores them."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from guardian.models import UserObjectPermission

from certification.domain.opening import start_application
from certification.domain.roles import ROLE_GROUP_PERMISSIONS, grant_role, revoke_role, sync_roles
from certification.models import Application, EvaluatorAssignment, Role, Tier
from tests.factories.workflow import build_world, person
from workflows.flows import CertificationFlow

pytestmark = pytest.mark.django_db


def _application(world):
    return start_application(world.cluster, Tier.CLOSE_KNIT, by=world.lead)


def _holders(application, codename):
    return {
        row.user
        for row in UserObjectPermission.objects.filter(
            object_pk=str(application.pk), permission__codename=codename
        ).select_related("user")
    }


def test_each_role_holds_its_object_permission_only_in_its_scope():
    world = build_world(Tier.CLOSE_KNIT)
    other = build_world(Tier.CLOSE_KNIT, city=world.city)
    application = _application(world)

    assert _holders(application, "act_as_lead") == {world.lead}
    assert _holders(application, "act_as_district_office") == {world.office}
    assert _holders(application, "act_as_district_leader") == {world.leader}
    assert _holders(application, "act_as_city_office") == {world.city_office, other.city_office}
    assert _holders(application, "act_as_city_leader") == {world.city_leader, other.city_leader}
    assert _holders(application, "act_as_evaluator") == set()
    assert not other.lead.has_perm("certification.view_application", application)
    assert not other.office.has_perm("certification.act_as_district_office", application)
    assert not world.lead.has_perm("certification.act_as_district_office", application)


def test_object_permissions_agree_with_visible_to_for_every_user():
    world = build_world(Tier.CLOSE_KNIT)
    other = build_world(Tier.CLOSE_KNIT, city=world.city)
    applications = [_application(world), _application(other)]
    users = [*world.people().values(), *other.people().values(), *world.evaluators]

    for user in users:
        visible = set(Application.objects.visible_to(user))
        for application in applications:
            assert user.has_perm("certification.view_application", application) is (application in visible), (
                user,
                application,
            )


def test_grant_after_opening_and_revoke_follow_at_once():
    world = build_world(Tier.CLOSE_KNIT)
    application = _application(world)
    newcomer = person(Role.DISTRICT_OFFICE, region=world.district)

    assert newcomer.has_perm("certification.act_as_district_office", application)
    revoke_role(newcomer.role_grants.get())

    newcomer = type(newcomer).objects.get(pk=newcomer.pk)
    assert not newcomer.has_perm("certification.act_as_district_office", application)
    assert not newcomer.has_perm("certification.view_application", application)
    assert not newcomer.groups.filter(name=Role.DISTRICT_OFFICE).exists()


def test_role_groups_carry_only_model_wide_rights_without_scope():
    world = build_world(Tier.CLOSE_KNIT)

    group = Group.objects.get(name=Role.LEAD)

    assert sorted(f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()) == sorted(
        ROLE_GROUP_PERMISSIONS[Role.LEAD]
    )
    assert world.lead.has_perm("workflows.view_certificationprocess")
    assert not world.lead.has_perm("certification.act_as_lead")
    assert CertificationFlow.instance.has_view_permission(world.lead)


def test_sync_roles_restores_missing_and_removes_stray_permissions_idempotently():
    world = build_world(Tier.CLOSE_KNIT)
    application = _application(world)
    EvaluatorAssignment.objects.create(application=application, evaluator=world.evaluators[0], assigned_by=world.office)
    UserObjectPermission.objects.filter(user=world.lead).delete()
    grant_role(world.tied_evaluator, Role.LEAD, cluster=build_world(Tier.CLOSE_KNIT, city=world.city).cluster)
    stray = UserObjectPermission.objects.create(
        user=world.tied_evaluator,
        permission=Permission.objects.get(codename="act_as_lead"),
        content_type=ContentType.objects.get_for_model(Application),
        object_pk=str(application.pk),
    )
    world.office.groups.clear()

    first = sync_roles()
    second = sync_roles()

    # The lead's view and act_as_lead; view and act_as_evaluator for the assignment made behind the domain's back.
    assert first["permissions_added"] == 4
    assert first["permissions_removed"] == 1
    assert first["memberships_added"] == 1
    assert (second["permissions_added"], second["permissions_removed"]) == (0, 0)
    assert (second["memberships_added"], second["memberships_removed"]) == (0, 0)
    assert world.lead.has_perm("certification.act_as_lead", application)
    assert world.evaluators[0].has_perm("certification.act_as_evaluator", application)
    assert not UserObjectPermission.objects.filter(pk=stray.pk).exists()
    assert world.office.groups.filter(name=Role.DISTRICT_OFFICE).exists()


def test_sync_roles_command_reports_its_work(capsys):
    build_world(Tier.CLOSE_KNIT)

    call_command("sync_roles")
    call_command("sync_roles")

    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "groups=7 memberships +0 -0 object permissions +0 -0"
