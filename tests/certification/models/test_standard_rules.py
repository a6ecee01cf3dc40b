"""One set of rules for a standard: the admin's `Indicator.clean`, loading, and new versions all apply it."""

import pytest
from django.core.exceptions import ValidationError

from certification.domain import standards as domain
from certification.models import AuditEvent, Indicator, Standard, Tier
from tests.factories.standards import load_shipped_standard


@pytest.fixture
def draft(db):
    return domain.new_version(load_shipped_standard(Tier.CLOSE_KNIT), by=None)


def test_indicator_clean_upper_threshold_below_threshold_refused_as_loading_does(draft):
    indicator = draft.indicators().get(code="B1")
    indicator.comparator, indicator.threshold, indicator.threshold_high = "between", "0.10", "0.05"

    with pytest.raises(ValidationError) as refusal:
        indicator.clean()

    # The same message `load_standard` gives (tests/certification/domain/test_standards_domain.py): one rule, one text.
    assert refusal.value.message_dict == {"threshold_high": ["上限阈值必须大于阈值。"]}


def test_indicator_clean_scored_levels_with_gap_refused(draft):
    indicator = draft.indicators().get(code="A1")
    indicator.levels = [dict(level) for level in indicator.levels]
    indicator.levels[0]["min_score"] = "5"

    with pytest.raises(ValidationError) as refusal:
        indicator.clean()

    assert list(refusal.value.message_dict) == ["levels"]
    assert "3.6–4.8、5–6" in refusal.value.message_dict["levels"][0]


def test_indicator_clean_computed_without_evidence_rows_allowed(draft):
    # An indicator alone has no evidence rows yet in the admin; the standard as a whole checks them on publishing.
    indicator = draft.indicators().get(code="B1")
    indicator.evidence_requirements.all().delete()

    indicator.clean()

    assert domain.validate_for_publication(draft)[0].startswith("B › B1 › evidence: ")


def test_indicator_clean_scored_with_metric_refused(draft):
    indicator = draft.indicators().get(code="A1")
    indicator.metric = "rotation_same_stage_rate"

    with pytest.raises(ValidationError) as refusal:
        indicator.clean()

    assert refusal.value.message_dict == {"metric": ["专家评分指标不设计算口径、比较方式和阈值。"]}


def test_new_version_of_invalid_draft_refused_nothing_saved(draft):
    Indicator.objects.filter(dimension__standard=draft, code="A1").update(levels=[])
    before = (Standard.objects.count(), AuditEvent.objects.count())

    with pytest.raises(domain.StandardRejected) as refusal:
        domain.new_version(draft, by=None)

    assert [p.message for p in refusal.value.problems] == ["评分指标至少需要两个等级描述。"]
    assert (Standard.objects.count(), AuditEvent.objects.count()) == before


def test_new_version_audited_once_as_new_version(draft):
    newer = domain.new_version(draft, by=None)

    assert list(AuditEvent.objects.filter(object_id=str(newer.pk)).values_list("action", "payload")) == [
        ("standard.new_version", {"from_version": 2})
    ]
    assert (newer.version, newer.derived_from) == (3, draft)
