"""Who may see or act on an application: answered here, and everything else derives from it.

The scope rule itself is `certification.models.people.ROLE_APPLICATION_PATH` (a role granted on a cluster or a
region covers the applications under it; evaluators cover their active assignments). On it stand
`Application.objects.visible_to(user)` and `RoleGrant.objects.holders(role, application)`; on those, this module:
the deciding office, the people a step tells, who may export, the office's desk lists and the disclosure rules of
the dossier (who sees the evaluators' names and the results). The guardian grant sync
(`certification.domain.roles`) and the flow's permission callables read the same rule.
"""

from django.db.models import Exists, OuterRef

from certification.models import (
    Application,
    EvaluatorAssignment,
    Role,
    RoleGrant,
    ScoreSheet,
)
from certification.models.people import active_grants_of, active_roles
from certification.models.tier import decided_by_city

VIEW_APPLICATION = "view_application"

# The object permission each role holds on the applications in its scope, beside `view_application`.
ROLE_OBJECT_PERMISSION = {
    Role.LEAD: "act_as_lead",
    Role.DISTRICT_OFFICE: "act_as_district_office",
    Role.DISTRICT_LEADER: "act_as_district_leader",
    Role.CITY_OFFICE: "act_as_city_office",
    Role.CITY_LEADER: "act_as_city_leader",
    Role.EVALUATOR: "act_as_evaluator",
}
OBJECT_PERMISSIONS = [VIEW_APPLICATION, *ROLE_OBJECT_PERMISSION.values()]

OFFICE_ROLES = {Role.DISTRICT_OFFICE, Role.CITY_OFFICE}
LEADER_ROLES = {Role.DISTRICT_LEADER, Role.CITY_LEADER}
DISTRICT_ROLES = [Role.DISTRICT_OFFICE, Role.DISTRICT_LEADER]
CITY_ROLES = [Role.CITY_OFFICE, Role.CITY_LEADER]

# The states after which the lead sees the panel's results (the application has been decided).
DECIDED = {Application.Status.PUBLICITY, Application.Status.CERTIFIED, Application.Status.FAILED}


def perm(codename):
    """The full name `user.has_perm` takes for one of the application object permissions."""
    return f"certification.{codename}"


def deciding_office_role(application):
    """The office that assigns evaluators and resolves objections: the city's for 市级示范性, else the district's."""
    return Role.CITY_OFFICE if decided_by_city(application.target_tier) else Role.DISTRICT_OFFICE


def deciding_office_permission(application):
    """The object permission of the deciding office (`perm(...)` gives its full name)."""
    return ROLE_OBJECT_PERMISSION[deciding_office_role(application)]


def role_of_permission(permission):
    """The role whose object permission `permission` ("certification.act_as_…") is; None for any other."""
    for role, codename in ROLE_OBJECT_PERMISSION.items():
        if permission == perm(codename):
            return role
    return None


def supervising_role(role, application):
    """Who hears of a task of `role` left overdue past the grace period (escalation).

    An office answers to its leader; an evaluator to the office that assigned them (the deciding office); a lead to
    the district office that reviews the application. Leaders have no one above them in the product: the office of
    their level, which runs the process and follows the decision up, is told.
    """
    return {
        Role.DISTRICT_OFFICE: Role.DISTRICT_LEADER,
        Role.CITY_OFFICE: Role.CITY_LEADER,
        Role.EVALUATOR: deciding_office_role(application),
        Role.LEAD: Role.DISTRICT_OFFICE,
        Role.DISTRICT_LEADER: Role.DISTRICT_OFFICE,
        Role.CITY_LEADER: Role.CITY_OFFICE,
    }.get(role)


def holders(role, application):
    """The active people holding `role` over `application` (see `RoleGrant.objects.holders`), as a list."""
    return list(RoleGrant.objects.holders(role, application))


def holders_of(roles, application):
    """The active people holding each of `roles` over `application` (one query): a list per role, as `holders`."""
    return RoleGrant.objects.holders_of(roles, application)


def deciding_office(application):
    """The people of the office that assigns evaluators and resolves objections for this application."""
    return holders(deciding_office_role(application), application)


def involved_roles(application):
    """The roles that take part in `application`: the city's only when the city decides."""
    roles = [Role.LEAD, Role.DISTRICT_OFFICE, Role.EVALUATOR, Role.DISTRICT_LEADER]
    if decided_by_city(application.target_tier):
        roles += [Role.CITY_OFFICE, Role.CITY_LEADER]
    return roles


def everyone(application):
    """Everyone involved in `application`, told of its big steps (公示, certificate, failure)."""
    return [person for people in holders_of(involved_roles(application), application) for person in people]


def roles_of(user):
    """The roles `user` holds now (active grants), read once per request (cached on the user object)."""
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    cached = getattr(user, "_scope_roles", None)
    if cached is None:
        cached = user._scope_roles = active_roles(user)
    return cached


def active_grants(user):
    """The role grants `user` holds now, read once per request (cached on the user object): the dashboards' scope
    (`domain.dashboards.dashboard_scope`, which the site menu asks on every page) and `may_export` share the read."""
    if not user.is_authenticated or not user.is_active:
        return []
    cached = getattr(user, "_scope_grants", None)
    if cached is None:
        cached = user._scope_grants = list(active_grants_of(user))
    return cached


def is_office(user):
    """District or city office staff, administrators and superusers: the office's desk and its timer button."""
    return user.is_superuser or bool(roles_of(user) & (OFFICE_ROLES | {Role.ADMINISTRATOR}))


def is_staff_for(user, roles=None):
    """Office, leaders and administrators: they see an application's panel and results once it is in scope."""
    roles = roles_of(user) if roles is None else roles
    return user.is_superuser or bool(roles & (OFFICE_ROLES | LEADER_ROLES | {Role.ADMINISTRATOR}))


def may_end_publicity_for_demo(user, application, roles=None):
    """Whether the demo shortcut is offered: the deciding office's (the domain checks it again)."""
    roles = roles_of(user) if roles is None else roles
    return deciding_office_role(application) in roles


def export_districts(user):
    """The districts whose summary `user` may export: those of their district office and leader grants, by name
    (from the grants already read, `active_grants`)."""
    districts = {grant.region_id: grant.region for grant in active_grants(user) if grant.role in DISTRICT_ROLES}
    return sorted(districts.values(), key=lambda region: region.name)


def may_export(user, *, application=None, district=None):
    """Who may export: an application's 评估汇总表 — the office and leaders of its district or city and
    administrators; a district summary — the office and leaders of that district only."""
    if not user.is_authenticated or not user.is_active:
        return False
    grants = active_grants(user)
    if district is not None:
        return any(grant.role in DISTRICT_ROLES and grant.region_id == district.pk for grant in grants)
    cluster_district = application.cluster.district
    if user.is_superuser or any(grant.role == Role.ADMINISTRATOR for grant in grants):
        return True
    # The district's office and leaders, or the city's.
    return any(
        (grant.role in DISTRICT_ROLES and grant.region_id == cluster_district.pk)
        or (grant.role in CITY_ROLES and grant.region_id == cluster_district.parent_id)
        for grant in grants
    )


def exportable(user):
    """The applications whose 评估汇总表 `user` may export: `may_export`'s rule as one queryset, so that a selection
    of any size is checked in one statement (the office's bulk export, at request and at download)."""
    if not user.is_authenticated or not user.is_active:
        return Application.objects.none()
    if user.is_superuser or Role.ADMINISTRATOR in roles_of(user):
        return Application.objects.all()
    grants = RoleGrant.objects.active().filter(user=user)
    return Application.objects.filter(
        Exists(grants.filter(role__in=DISTRICT_ROLES, region=OuterRef("cluster__district")))
        | Exists(grants.filter(role__in=CITY_ROLES, region=OuterRef("cluster__district__parent")))
    )


def may_export_all(user, applications):
    """Whether `user` may export every one of `applications` (ids or Applications): one query."""
    ids = {getattr(each, "pk", each) for each in applications}
    return exportable(user).filter(pk__in=ids).count() == len(ids)


# ---------------------------------------------------------------------------------------------- the dossier


def is_on_panel(user, application):
    """Whether `user` is or was on the application's panel."""
    return EvaluatorAssignment.objects.filter(application=application, evaluator=user).exists()


def sees_panel(user, application, roles=None):
    """The panel (evaluators' names) is shown to staff in scope and to the panel itself, never to the lead."""
    return is_staff_for(user, roles) or is_on_panel(user, application)


def sees_results(user, application, roles=None):
    """Results are for the office, leaders and administrators; an evaluator sees them once their own sheet is
    in (so the panel's figures cannot sway a score); the lead once the application has been decided."""
    if is_staff_for(user, roles):
        return True
    if application.passed is not None and application.status in DECIDED:
        return True
    return ScoreSheet.objects.filter(
        assignment__application=application, assignment__evaluator=user, status=ScoreSheet.Status.SUBMITTED
    ).exists()


def hidden_actors(user, application, *, shows_panel=None):
    """The ids of the people the dossier's history shows only as "Evaluator": the panel, to whoever may not see it."""
    if shows_panel if shows_panel is not None else sees_panel(user, application):
        return set()
    return set(application.assignments.values_list("evaluator", flat=True))


# ---------------------------------------------------------------------------------------------- cluster data


def sees_cluster(user, cluster):
    """Who sees a cluster's data by school year and its self-check: its leads, the office and leaders of its
    district and city, and administrators (the same reach as the cluster's applications, without evaluators)."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    grants = RoleGrant.objects.active().filter(user=user)
    district = cluster.district
    return (
        grants.filter(role=Role.ADMINISTRATOR).exists()
        or grants.filter(role=Role.LEAD, cluster_id=cluster.pk).exists()
        or grants.filter(role__in=DISTRICT_ROLES, region_id=district.pk).exists()
        or grants.filter(role__in=CITY_ROLES, region_id=district.parent_id).exists()
    )


def sees_district_readiness(user, district):
    """Who sees the readiness table of a district's clusters: its office and leaders, its city's, administrators."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    grants = RoleGrant.objects.active().filter(user=user)
    return (
        grants.filter(role=Role.ADMINISTRATOR).exists()
        or grants.filter(role__in=DISTRICT_ROLES, region_id=district.pk).exists()
        or grants.filter(role__in=CITY_ROLES, region_id=district.parent_id).exists()
    )
