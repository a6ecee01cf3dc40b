"""招生入学: quota-to-school plan and quality senior-high entry of each junior school (seed 002)."""

from decimal import Decimal

from django.utils.translation import gettext as _

from certification.models import EnrolmentResult, Stage

from .base import Column, Dataset


def check(values):
    errors = []
    if not values["school"].teaches(Stage.JUNIOR):
        errors.append(("school", _("%(school)s has no junior stage.") % {"school": values["school"].name}))
    if values["quota_filled"] > values["quota_plan"]:
        errors.append(
            ("quota_filled", _("Cannot be more than %(limit)s (the quota plan).") % {"limit": values["quota_plan"]})
        )
    return errors


DATASET = Dataset(
    code="enrolment",
    title="招生入学",
    columns=(
        Column("school", "学校", "school", note="有初中学段的学校，每校每学年一行。"),
        Column("year", "学年", "year", note="四位数字，如 2025。"),
        Column("graduates", "初中毕业生数", "integer", minimum=1, maximum=100000),
        Column("quota_plan", "名额分配到校计划数", "integer", minimum=0, maximum=10000),
        Column("quota_filled", "名额分配到校完成数", "integer", minimum=0, maximum=10000, note="不超过计划数。"),
        Column(
            "quality_entry_rate",
            "优质高中阶段学校入学率（%）",
            "percent",
            minimum=Decimal("0"),
            maximum=Decimal("100"),
            note="填写百分数的数值，如 65.5 表示 65.5%。",
        ),
        Column(
            "district_quality_entry_rate",
            "全区平均入学率（%）",
            "percent",
            minimum=Decimal("0"),
            maximum=Decimal("100"),
        ),
    ),
    key=("school", "year"),
    model=EnrolmentResult,
    to_fields=dict,
    check=check,
    instructions=(
        "名额分配到校计划完成率 = 完成数之和 ÷ 计划数之和，要求达到 100%。",
        "优质高中阶段学校入学率按初中毕业生数加权后与全区平均水平比较。",
    ),
    example=("（学校名称）", 2025, 280, 40, 40, 68.5, 62.0),
)
