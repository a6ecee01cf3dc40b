"""The work lists (office desk, 审批队列) find a person's open tasks by their role grants, not by guardian's rows.

`queues.with_open_tasks` answers "may this person take this task" from the grants, the rule that guardian's object
permissions are made from (`certification.domain.roles`), so that a district's office is a comparison on each
row's district instead of a subquery over 10,000 permissions. Viewflow's own pages, and the task buttons on each
row, still ask guardian. These tests hold the two answers equal, person by person, on a scene with every role, a
person holding two roles in two districts, a city's task, an evaluator's assignment withdrawn, a grant revoked.
"""

import pytest
from django.urls import reverse
from guardian.shortcuts import assign_perm
from viewflow.workflow.models import Task

from certification.domain.roles import ensure_groups, grant_role, revoke_role, sync_object_permissions
from certification.models import EvaluatorAssignment, Role, RoleGrant, Tier
from certification.scope import perm
from tests.factories.workflow import build_world, person
from tests.workflows.work_pages.helpers import another_cluster, to_approval, to_formal_review, to_scoring
from workflows.flows import CertificationFlow as F
from workflows.models import QueueEntry
from workflows.queues import ENTRIES, entry_condition, with_open_tasks
from workflows.work import DECISION_NODES, applications

pytestmark = [pytest.mark.django_db]


def by_guardian(user, nodes=None):
    """The lists' rule before: the applications in the user's scope with an open task guardian lets them take."""
    rows = applications().visible_to(user).filter(entry_condition(user, ENTRIES, nodes))
    return set(rows.values_list("pk", flat=True))


def by_grants(user, nodes=None):
    return set(with_open_tasks(applications(), user, nodes).values_list("pk", flat=True))


@pytest.fixture
def scene():
    reverse("workflow:inbox")
    ensure_groups()
    home = build_world(Tier.CLOSE_KNIT)
    away = build_world(Tier.CLOSE_KNIT, city=home.city)
    formal, _process = to_formal_review(home)
    scoring, _process, panel = to_scoring(home, *another_cluster(home))
    approval, _process = to_approval(home, *another_cluster(home))
    away_approval, away_process = to_approval(away)
    # A city's task: the away district's decision, named as the city office's (the 市级 steps' permission).
    decision = Task.objects.get(process=away_process, flow_task=F.district_decision)
    Task.objects.filter(pk=decision.pk).update(owner_permission=perm("act_as_city_office"))
    # One person, two roles in two districts: the home district's office and the away cluster's lead.
    mixed = person(Role.DISTRICT_OFFICE, region=home.district)
    grant_role(mixed, Role.LEAD, cluster=away.cluster)
    # An evaluator who recused keeps the evaluator role but no longer this application.
    withdrawn = EvaluatorAssignment.objects.get(application=scoring, evaluator=panel[2])
    withdrawn.status = EvaluatorAssignment.Status.RECUSED
    withdrawn.save()
    sync_object_permissions(applications=[scoring])
    # A leader whose grant was revoked.
    revoke_role(RoleGrant.objects.get(user=away.leader, role=Role.DISTRICT_LEADER))
    people = {
        **{f"home {name}": user for name, user in home.people().items()},
        **{f"away {name}": user for name, user in away.people().items()},
        **{f"evaluator {n}": user for n, user in enumerate(panel)},
        "mixed": mixed,
    }
    return people, {"formal": formal, "scoring": scoring, "approval": approval, "away approval": away_approval}


def test_the_lists_rule_by_grants_is_guardians_person_by_person(scene):
    people, apps = scene
    assert QueueEntry.objects.filter(owner_permission=perm("act_as_city_office")).count() == 1

    for name, user in people.items():
        for nodes in (None, DECISION_NODES):
            assert by_grants(user, nodes) == by_guardian(user, nodes), (name, nodes)

    # Not two empty answers: each role finds its own tasks, and only those.
    assert by_grants(people["home office"]) == {apps["formal"].pk}
    assert by_grants(people["mixed"]) == {apps["formal"].pk}
    assert by_grants(people["home leader"], DECISION_NODES) == {apps["approval"].pk}
    assert by_grants(people["home city_office"]) == {apps["away approval"].pk}
    assert by_grants(people["evaluator 0"]) == {apps["scoring"].pk}
    assert by_grants(people["evaluator 2"]) == set()
    assert by_grants(people["away leader"]) == set()


def test_a_permission_without_a_grant_lists_nothing(scene):
    """A guardian row that no grant calls for (put there by hand) shows no task on the lists, as before: the scope
    check the lists made then refused it too."""
    people, apps = scene
    away_office = people["away office"]
    assign_perm(perm("act_as_district_office"), away_office, apps["formal"])

    assert by_grants(away_office) == by_guardian(away_office) == set()
