"""学校基本数据: students and teachers of each school, and how many the cluster's shared work reaches (seed 000)."""

from django.utils.translation import gettext as _

from certification.models import SchoolStats

from .base import Column, Dataset


def check(values):
    errors = []
    if values["teachers_in_cluster_work"] > values["teachers"]:
        errors.append(
            (
                "teachers_in_cluster_work",
                _("Cannot be more than %(limit)s (the teachers).") % {"limit": values["teachers"]},
            )
        )
    if values["students_covered"] > values["students"]:
        errors.append(
            ("students_covered", _("Cannot be more than %(limit)s (the students).") % {"limit": values["students"]})
        )
    return errors


DATASET = Dataset(
    code="school_stats",
    title="学校基本数据",
    columns=(
        Column("school", "学校", "school", note="从下拉列表选择；每所学校每学年一行。"),
        Column("year", "学年", "year", note="四位数字，如 2025。"),
        Column("students", "在校学生数", "integer", minimum=0, maximum=100000),
        Column("teachers", "教师数", "integer", minimum=0, maximum=10000),
        Column(
            "teachers_in_cluster_work",
            "参与学区集团工作的教师数",
            "integer",
            minimum=0,
            maximum=10000,
            note="参加联合教研、带教、走教、培训等学区/集团集群工作的教师人数，不超过教师数。",
        ),
        Column(
            "students_covered",
            "共享资源覆盖学生数",
            "integer",
            minimum=0,
            maximum=100000,
            note="享受学区/集团共享课程、场馆、师资等资源的学生人数，不超过在校学生数。",
        ),
    ),
    key=("school", "year"),
    model=SchoolStats,
    to_fields=dict,
    check=check,
    instructions=(
        "用于《闵行区关于推进紧密型学区和集团建设的三年行动计划》的两个“百分之一百”：",
        "共享教育资源覆盖100%学生 = 共享资源覆盖学生数之和 ÷ 在校学生数之和；",
        "100%的教师参与学区或集团集群建设 = 参与学区集团工作的教师数之和 ÷ 教师数之和。",
        "请为学区/集团的每一所学校填写，缺少学校时无法计算。",
    ),
    example=("（学校名称）", 2025, 1200, 90, 90, 1200),
)
