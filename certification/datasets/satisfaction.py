"""满意度: each group's survey of the cluster in a school year (seed 002: parents and teachers ≥ 90%)."""

from django.utils.translation import gettext as _

from certification.models import SatisfactionSurvey

from .base import Column, Dataset

GROUPS = {
    "家长": SatisfactionSurvey.Group.PARENTS,
    "教师": SatisfactionSurvey.Group.TEACHERS,
    "学生": SatisfactionSurvey.Group.STUDENTS,
    "全体": SatisfactionSurvey.Group.EVERYONE,
}


def check(values):
    if values["satisfied"] > values["respondents"]:
        return [("satisfied", _("Cannot be more than %(limit)s (the respondents).") % {"limit": values["respondents"]})]
    return []


DATASET = Dataset(
    code="satisfaction",
    title="满意度",
    columns=(
        Column(
            "group",
            "调查群体",
            "choice",
            choices=GROUPS,
            note="家长、教师或学生，每个群体每学年一行；标准合并计算且只做了一次总体调查时填“全体”。",
        ),
        Column("year", "学年", "year", note="四位数字，如 2025。"),
        Column("respondents", "有效问卷数", "integer", minimum=1, maximum=1000000),
        Column(
            "satisfied",
            "满意人数",
            "integer",
            minimum=0,
            maximum=1000000,
            note="选择“满意”或“比较满意”的人数，不超过有效问卷数。",
        ),
    ),
    key=("group", "year"),
    model=SatisfactionSurvey,
    to_fields=dict,
    check=check,
    instructions=(
        "满意度 = 满意人数 ÷ 有效问卷数。",
        "按群体计算的标准（区级、市级示范性标准）要求家长和教师的满意度各自不低于 90%，请分别填写家长、教师两行。",
        "合并计算的标准把各群体的问卷合在一起计算；只做了一次总体调查时，填一行“全体”。",
    ),
    example=("家长", 2025, 850, 800),
)
