"""Standards in the domain: loading validates everything first, publishing, new versions, and the lock on
published standards at the model level (save, delete, and bulk QuerySet writes)."""

import copy
import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError

from certification.domain import standards as domain
from certification.errors import IllegalTransition, InvalidInput
from certification.models import (
    AuditEvent,
    Dimension,
    EvidenceRequirement,
    Indicator,
    Standard,
    StandardLocked,
    Tier,
)
from tests.certification.excel.test_standards_workbook import canonical
from tests.factories.standards import load_shipped_standard

FIXTURE = Path(settings.BASE_DIR) / "fixtures" / "standards" / "close_knit.json"


@pytest.fixture
def data():
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


@pytest.fixture
def published(db):
    return load_shipped_standard(Tier.CLOSE_KNIT)


@pytest.fixture
def draft(published, user):
    return domain.new_version(published, by=user)


def test_load_standard_draft_with_audit_row(db, data, user):
    data["version"] = None

    standard = domain.load_standard(data, by=user)

    assert (standard.tier, standard.version, standard.status) == (Tier.CLOSE_KNIT, 1, "draft")
    assert standard.indicators().count() == 23  # B9: the cross-stage backbone share, apart (issue 9, rule 3)
    assert EvidenceRequirement.objects.filter(indicator__dimension__standard=standard).count() == sum(
        len(i["evidence"]) for d in data["dimensions"] for i in d["indicators"]
    )
    assert list(AuditEvent.objects.values_list("action", "actor", "object_id")) == [
        ("standard.loaded", user.pk, str(standard.pk))
    ]


def test_load_standard_every_problem_listed_nothing_saved(db, data):
    indicator = data["dimensions"][1]["indicators"][0]  # B1, computed
    indicator["comparator"] = "between"
    indicator["threshold_high"] = "0.05"  # below the lower threshold
    indicator["evidence"] = [e for e in indicator["evidence"] if e["dataset"] != "eligible_teachers"]
    scored = data["dimensions"][0]["indicators"][0]  # A1, scored 6
    scored["levels"][0]["min_score"] = "5"  # 优秀 5–6 leaves 4.8–5 uncovered
    data["dimensions"][2]["indicators"][0]["code"] = "A1"  # duplicate of A1
    data["pass_score"] = 101

    with pytest.raises(domain.StandardRejected) as rejection:
        domain.load_standard(data)

    problems = {domain.describe_path(data, p.path): p.message for p in rejection.value.problems}
    assert list(problems) == [
        "pass_score",
        "A › A1 › levels",
        "B › B1 › threshold_high",
        "B › B1 › evidence",
        "C › A1 › code",
    ]
    assert problems["pass_score"] == "合格分高于总分。"
    assert "3.6–4.8、5–6" in problems["A › A1 › levels"]
    assert problems["B › B1 › threshold_high"] == "上限阈值必须大于阈值。"
    assert "“eligible_teachers”" in problems["B › B1 › evidence"]
    assert problems["C › A1 › code"] == "指标编码“A1”重复出现。"
    assert (Standard.objects.count(), AuditEvent.objects.count()) == (0, 0)


def test_load_standard_taken_version_refused(published, data):
    with pytest.raises(domain.StandardRejected) as rejection:
        domain.load_standard(data)

    assert [p.message for p in rejection.value.problems] == ["该等级已有第 1 版。"]
    assert Standard.objects.count() == 1


def test_load_standard_with_publish_retires_older(published, data, user):
    data["version"] = None

    newer = domain.load_standard(data, by=user, publish=True)

    published.refresh_from_db()
    assert (newer.version, newer.status, published.status) == (2, "published", "retired")
    assert Standard.objects.in_force(Tier.CLOSE_KNIT) == newer


def test_new_version_copies_everything_into_draft(published, user):
    draft = domain.new_version(published, by=user)

    assert canonical(draft) == canonical(published)
    assert (draft.version, draft.status, draft.derived_from, draft.published) == (2, "draft", published, None)
    assert draft.indicators().get(code="B1").pk != published.indicators().get(code="B1").pk


def test_publish_draft_with_scored_indicator_without_levels_refused(draft, user):
    Indicator.objects.filter(dimension__standard=draft, code="A1").update(levels=[])

    with pytest.raises(InvalidInput) as refusal:
        domain.publish(draft, by=user)

    assert "A › A1 › levels: 评分指标至少需要两个等级描述。" in str(refusal.value)
    assert Standard.objects.get(pk=draft.pk).status == "draft"


def test_publish_published_refused(published, user):
    with pytest.raises(IllegalTransition):
        domain.publish(published, by=user)


# ---- the lock ------------------------------------------------------------------------------------------------


def test_published_standard_save_refused(published):
    published.title = "改过的标题"

    with pytest.raises(StandardLocked):
        published.save()

    assert Standard.objects.get(pk=published.pk).title == "紧密型学区和集团评估标准"


def test_published_standard_delete_refused(published):
    with pytest.raises(StandardLocked):
        published.delete()

    assert Standard.objects.filter(pk=published.pk).exists()


@pytest.mark.parametrize(
    ("model", "lookup"),
    [
        (Dimension, "standard"),
        (Indicator, "dimension__standard"),
        (EvidenceRequirement, "indicator__dimension__standard"),
    ],
)
def test_published_rows_save_and_delete_refused(published, model, lookup):
    row = model.objects.filter(**{lookup: published}).first()
    row.title = "改过"

    with pytest.raises(StandardLocked):
        row.save()
    with pytest.raises(StandardLocked):
        row.delete()

    assert model.objects.get(pk=row.pk).title != "改过"


@pytest.mark.parametrize(
    ("model", "lookup"),
    [
        (Standard, "pk"),
        (Dimension, "standard"),
        (Indicator, "dimension__standard"),
        (EvidenceRequirement, "indicator__dimension__standard"),
    ],
)
def test_published_rows_queryset_update_and_delete_refused(published, model, lookup):
    rows = model.objects.filter(**{lookup: published.pk})
    before = list(rows.values_list("pk", "title"))

    with pytest.raises(StandardLocked):
        rows.update(title="批量改过")
    with pytest.raises(StandardLocked):
        model.objects.all().delete()

    assert list(rows.values_list("pk", "title")) == before


def test_published_indicator_bulk_create_refused(published):
    dimension = published.dimensions.get(code="A")

    with pytest.raises(StandardLocked):
        Indicator.objects.bulk_create(
            [Indicator(dimension=dimension, code="A9", title="偷加的指标", max_score=Decimal(1), method="scored")]
        )

    assert not Indicator.objects.filter(code="A9").exists()


def test_draft_rows_queryset_update_and_delete_allowed(draft):
    Indicator.objects.filter(dimension__standard=draft, code="A1").update(title="草稿可以改")
    EvidenceRequirement.objects.filter(indicator__dimension__standard=draft, code="charter").delete()

    assert draft.indicators().get(code="A1").title == "草稿可以改"
    assert not EvidenceRequirement.objects.filter(indicator__dimension__standard=draft, code="charter").exists()
    assert EvidenceRequirement.objects.filter(code="charter").count() == 1  # the published one is untouched


def test_draft_delete_cascades_published_untouched(published, draft):
    published_rows = copy.deepcopy(canonical(published))

    draft.delete()

    assert not Standard.objects.filter(pk=draft.pk).exists()
    assert canonical(Standard.objects.get(pk=published.pk)) == published_rows


# ---- due periods --------------------------------------------------------------------------------------------


def test_load_standard_keeps_its_due_periods_and_new_versions_copy_them(db, data, user):
    data["due_periods"] = [
        {"step": "review_conclude", "working_days": 12},
        {"step": "formal_review", "working_days": "7"},
        {"step": "score", "working_days": ""},
    ]

    standard = domain.load_standard(data, by=user, publish=True)
    copy_ = domain.new_version(standard, by=user)

    assert standard.due_working_days == {"formal_review": 7, "review_conclude": 12}
    assert (standard.due_period("formal_review"), standard.due_period("score")) == (7, None)
    assert [(str(label), days) for label, days in standard.due_periods()] == [
        ("形式审查", 7),
        ("年度评估：作出评估结论", 12),
    ]
    assert copy_.due_working_days == standard.due_working_days


def test_load_standard_bad_due_periods_listed_nothing_saved(db, data):
    data["due_periods"] = [
        {"step": "formal_review", "working_days": 200},
        {"step": "approve", "working_days": 3},
        "formal_review: 5",
    ]

    with pytest.raises(domain.StandardRejected) as rejected:
        domain.load_standard(data)

    assert [(p.path, p.message) for p in rejected.value.problems] == [
        (("due_periods", 0, "working_days"), "请填写 1 到 120 之间的整数，而不是“200”。"),
        (("due_periods", 1, "step"), rejected.value.problems[1].message),
        (("due_periods", 2), "每项期限须写明步骤代码和工作日数。"),
    ]
    assert rejected.value.problems[1].message.startswith("“approve”不是以下之一：")
    assert not Standard.objects.exists()


def test_published_standard_periods_cannot_change(published):
    published.due_working_days = {"formal_review": 7}

    with pytest.raises(StandardLocked):
        published.save()
    with pytest.raises(StandardLocked):
        Standard.objects.filter(pk=published.pk).update(due_working_days={"formal_review": 7})

    assert Standard.objects.get(pk=published.pk).due_working_days == {}


@pytest.mark.parametrize(
    ("periods", "message"),
    [
        ({"formal_review": 0}, "请填写 1 到 120 之间的整数，而不是“0”。"),
        ({"formal_review": "7"}, "请填写 1 到 120 之间的整数，而不是“7”。"),
        ([["formal_review", 7]], "期限须写成 {步骤代码: 工作日数} 的形式。"),
    ],
)
def test_admin_form_of_a_draft_checks_the_periods(draft, periods, message):
    draft.due_working_days = periods

    with pytest.raises(ValidationError) as refused:
        draft.full_clean()

    assert refused.value.message_dict["due_working_days"] == [message]
