"""学业质量: each school's results per stage and year in the city's academic quality monitoring (seed 002)."""

from decimal import Decimal

from django.utils.translation import gettext as _

from certification.models import AcademicResult

from .base import Column, Dataset, stage_choices


def check(values):
    errors = []
    if not values["school"].teaches(values["stage"]):
        errors.append(("stage", _("%(school)s does not teach this stage.") % {"school": values["school"].name}))
    if values["students"] > values["enrolled"]:
        limit = values["enrolled"]
        errors.append(
            ("students", _("Cannot be more than %(limit)s (the students who should be tested).") % {"limit": limit})
        )
    if values["passed"] > values["students"]:
        limit = values["students"]
        errors.append(("passed", _("Cannot be more than %(limit)s (the students tested).") % {"limit": limit}))
    return errors


DATASET = Dataset(
    code="academic_results",
    title="学业质量",
    columns=(
        Column("school", "学校", "school", note="从下拉列表选择；每所学校每学段每学年一行。"),
        Column(
            "stage", "学段", "choice", choices=stage_choices("primary", "junior", "senior"), note="小学、初中或高中。"
        ),
        Column("year", "学年", "year", note="四位数字，如 2025。"),
        Column(
            "enrolled",
            "应考学生数",
            "integer",
            minimum=1,
            maximum=100000,
            note="该校该学段应参加监测（考试）的学生人数，用于核对“应考尽考”。",
        ),
        Column("students", "参测学生数", "integer", minimum=1, maximum=100000, note="实际参测人数，不超过应考学生数。"),
        Column("mean_score", "平均分", "decimal", minimum=Decimal("0"), maximum=Decimal("1000"), note="最多两位小数。"),
        Column(
            "passed",
            "合格及以上人数",
            "integer",
            minimum=0,
            maximum=100000,
            note="达到合格及以上的学生人数，不超过参测学生数；比例由平台按人数精确计算。",
        ),
        Column(
            "district_pass_share",
            "区平均合格及以上比例（%）",
            "percent",
            minimum=Decimal("0"),
            maximum=Decimal("100"),
            note="同学段、同学年的全区平均水平。",
        ),
    ),
    key=("school", "stage", "year"),
    model=AcademicResult,
    to_fields=dict,
    check=check,
    instructions=(
        "校际差异率 = 同一学段各校平均分的标准差（总体标准差）÷ 各校平均分的平均值，要求低于 0.15。",
        "合格及以上比例 = 合格及以上人数之和 ÷ 参测学生数之和，与区平均水平比较；初中学段的该比例即初中学业水平合格率。",
        "初中学业水平合格率只在“应考尽考”（参测学生数等于应考学生数）时判定；有应考未考的学生时不作判定。",
        "“相对薄弱学校进步明显”按相对薄弱学校平均分与上一学年比较，请同时填写上一学年的数据。",
    ),
    example=("（学校名称）", "初中", 2025, 300, 300, 86.5, 298, 97.8),
)
