"""Evidence reuse (issue 8, item 17): a file accepted before is attached as a new version row naming the same stored
file, audited; never copied, and never from another cluster or a withdrawn file."""

import datetime
import re

import pytest
from django.urls import reverse

from certification.domain.evidence import reuse_evidence, withdraw_evidence
from certification.domain.roles import ensure_groups
from certification.errors import InvalidInput
from certification.models import Application, AuditEvent, EvidenceFile, EvidenceRequirement, Tier, TierChange
from tests.factories.workflow import build_world, certification_standard, upload_all_evidence
from tests.workflows.driver import client_for, start

pytestmark = [pytest.mark.django_db]


@pytest.fixture(autouse=True)
def role_groups(db):
    """Role groups with their permissions; the URLs built (a flow node reverses its URLs only then)."""
    reverse("workflow:inbox")
    return ensure_groups()


def _requirement(application, code):
    return EvidenceRequirement.objects.get(indicator__dimension__standard=application.standard, code=code)


def test_lead_reuses_a_file_of_the_same_application_for_another_item():
    world = build_world(Tier.CLOSE_KNIT)
    application, _process = start(world.lead, world.cluster, Tier.CLOSE_KNIT)
    upload_all_evidence(application, world.lead)
    source = EvidenceFile.objects.get(application=application, requirement__code="A2-roster")
    target = _requirement(application, "A2-survey")

    reused = reuse_evidence(application, target, source, by=world.lead)

    assert (reused.requirement, reused.version, reused.stored_name, reused.sha256) == (
        target,
        2,
        source.stored_name,
        source.sha256,
    )
    event = AuditEvent.objects.get(action="evidence.reused")
    assert (event.actor, event.payload["source"], event.payload["source_requirement"]) == (
        world.lead,
        source.pk,
        "A2-roster",
    )
    assert EvidenceFile.objects.filter(stored_name=source.stored_name).count() == 2


def test_reuse_refuses_a_withdrawn_file_and_a_file_of_an_uncertified_earlier_application():
    world = build_world(Tier.CLOSE_KNIT)
    application, _process = start(world.lead, world.cluster, Tier.CLOSE_KNIT)
    upload_all_evidence(application, world.lead)
    source = EvidenceFile.objects.get(application=application, requirement__code="A1-charter")
    withdraw_evidence(source, by=world.lead, reason="错传")
    earlier = EvidenceFile.objects.get(application=application, requirement__code="A2-roster")
    Application.objects.filter(pk=application.pk).update(status=Application.Status.WITHDRAWN)
    again, _process = start(world.lead, world.cluster, Tier.CLOSE_KNIT)

    with pytest.raises(InvalidInput) as refused:
        reuse_evidence(again, _requirement(again, "A2-roster"), earlier, by=world.lead)
    with pytest.raises(InvalidInput):
        reuse_evidence(application, _requirement(application, "A1-charter"), source, by=world.lead)

    assert "只能引用本学区已通过认定的申报" in str(refused.value.message)
    assert not AuditEvent.objects.filter(action="evidence.reused").exists()


def test_reuse_refuses_a_file_of_another_cluster():
    world = build_world(Tier.CLOSE_KNIT)
    other = build_world(Tier.CLOSE_KNIT, city=world.city)
    theirs, _process = start(other.lead, other.cluster, Tier.CLOSE_KNIT)
    upload_all_evidence(theirs, other.lead)
    Application.objects.filter(pk=theirs.pk).update(status=Application.Status.CERTIFIED)
    mine, _process = start(world.lead, world.cluster, Tier.CLOSE_KNIT)
    source = EvidenceFile.objects.get(application=theirs, requirement__code="A1-charter")

    with pytest.raises(InvalidInput):
        reuse_evidence(mine, _requirement(mine, "A1-charter"), source, by=world.lead)

    assert not EvidenceFile.objects.filter(application=mine).exists()


def test_stage_page_offers_reuse_and_the_post_attaches_the_file():
    world = build_world(Tier.CLOSE_KNIT)
    application, _process = start(world.lead, world.cluster, Tier.CLOSE_KNIT)
    upload_all_evidence(application, world.lead, stage="process")
    source = EvidenceFile.objects.get(application=application, requirement__code="A2-roster")
    target = _requirement(application, "A1-charter")
    client = client_for(world.lead)

    page = client.get(reverse("evidence_list", args=[application.pk, target.stage])).content.decode()
    response = client.post(reverse("evidence_reuse", args=[application.pk, target.pk]), {"source": source.pk})

    assert "或引用已通过的文件" in page and f'<option value="{source.pk}" translate="no">' in page
    assert response.status_code == 302
    reused = EvidenceFile.objects.get(application=application, requirement=target)
    assert reused.stored_name == source.stored_name


def test_next_tier_preselects_the_file_filed_under_the_same_item_and_the_message_names_the_item():
    # Issue 8, found by the ladder walk: the reuse box preselected the newest accepted file whatever its item (a
    # satisfaction workbook offered for the charter), and the confirmation named the item by its raw code
    # ("charter 学区或集团章程"). The file of the same item comes first; the message names the item by its title.
    world = build_world(Tier.CLOSE_KNIT)
    certification_standard(Tier.DISTRICT_MODEL)
    earlier, _process = start(world.lead, world.cluster, Tier.CLOSE_KNIT)
    upload_all_evidence(earlier, world.lead)  # A1-charter first, A2-survey last: the survey is the newest
    Application.objects.filter(pk=earlier.pk).update(status=Application.Status.CERTIFIED)
    # The tier is derived: the cluster holds 紧密型 through a set-up line of its history (the certificate is not
    # what this test is about).
    TierChange.objects.create(
        cluster=world.cluster,
        from_tier=Tier.NONE,
        to_tier=Tier.CLOSE_KNIT,
        reason=TierChange.Reason.INITIAL,
        effective=datetime.date(2020, 1, 1),
    )
    application, _process = start(world.lead, world.cluster, Tier.DISTRICT_MODEL)
    charter = _requirement(application, "A1-charter")
    earlier_charter = EvidenceFile.objects.get(application=earlier, requirement__code="A1-charter")
    client = client_for(world.lead)

    page = client.get(reverse("evidence_list", args=[application.pk, charter.stage])).content.decode()
    form = re.search(rf'<select name="source" id="reuse-{charter.pk}">\s*<option value="(\d+)"', page)
    response = client.post(
        reverse("evidence_reuse", args=[application.pk, charter.pk]), {"source": form.group(1)}, follow=True
    )

    assert int(form.group(1)) == earlier_charter.pk
    (message,) = [str(message) for message in response.context["messages"]]
    assert message == f"{earlier_charter.original_name} 已保存为“{charter.title}”的第 1 版。"
