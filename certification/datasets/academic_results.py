"""学业质量: each school's results per stage and year in the city's academic quality monitoring (seed 002)."""

from decimal import Decimal

from django.utils.translation import gettext as _

from certification.models import AcademicResult

from .base import Column, Dataset, stage_choices


def check(values):
    if not values["school"].teaches(values["stage"]):
        return [("stage", _("%(school)s does not teach this stage.") % {"school": values["school"].name})]
    return []


DATASET = Dataset(
    code="academic_results",
    title="学业质量",
    columns=(
        Column("school", "学校", "school", note="从下拉列表选择；每所学校每学段每学年一行。"),
        Column(
            "stage", "学段", "choice", choices=stage_choices("primary", "junior", "senior"), note="小学、初中或高中。"
        ),
        Column("year", "学年", "year", note="四位数字，如 2025。"),
        Column("students", "参测学生数", "integer", minimum=1, maximum=100000),
        Column("mean_score", "平均分", "decimal", minimum=Decimal("0"), maximum=Decimal("1000"), note="最多两位小数。"),
        Column(
            "pass_share",
            "合格及以上比例（%）",
            "percent",
            minimum=Decimal("0"),
            maximum=Decimal("100"),
            note="填写百分数的数值，如 98.5 表示 98.5%。初中学段的该比例即初中学业水平合格率。",
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
        "合格及以上比例按参测学生数加权后与区平均水平比较。",
        "“相对薄弱学校进步明显”按相对薄弱学校平均分与上一学年比较，请同时填写上一学年的数据。",
    ),
    example=("（学校名称）", "初中", 2025, 300, 86.5, 99.2, 97.8),
)
