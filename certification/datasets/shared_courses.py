"""共享课程: one row per course offered in a semester, with the schools taking part (seed 000, seed 002)."""

from django.utils.translation import gettext as _

from certification.models import SharedCourse

from .base import Column, Dataset


def check(values):
    errors = []
    grade_students = values["grade_students"]
    if values["high_quality"] and grade_students is None:
        errors.append(("grade_students", _("A high-quality course needs the number of students in its grades.")))
    if grade_students is not None and values["students"] > grade_students:
        errors.append(
            (
                "students",
                _("Cannot be more than %(limit)s (the students in the offered grades).") % {"limit": grade_students},
            )
        )
    return errors


def to_fields(values):
    provider = values["provider"]
    participants = [provider, *(school for school in values["participants"] if school != provider)]
    return {
        "course": values["course"],
        "provider": provider,
        "semester": values["semester"],
        "year": int(values["semester"][:4]),
        "participant_ids": [school.pk for school in participants],
        "students": values["students"],
        "high_quality": values["high_quality"],
        "grade_students": values["grade_students"],
        "grades": values["grades"] or "",
    }


DATASET = Dataset(
    code="shared_courses",
    title="共享课程",
    columns=(
        Column("course", "课程名称", "text", max_length=200, note="同一课程同一学期只填一行。"),
        Column("provider", "开设学校", "school", note="从下拉列表选择；开设学校自动算作参与学校。"),
        Column("semester", "学期", "semester", note="学年-学期，如 2025-1 表示 2025 学年第一学期，2025-2 为第二学期。"),
        Column(
            "participants",
            "参与学校",
            "schools",
            field="participant_ids",
            note="本学区/集团学校名称，多所学校用顿号“、”分隔。",
        ),
        Column("students", "参与学生数", "integer", minimum=0, maximum=100000, note="本学期学习该课程的学生人数。"),
        Column("high_quality", "是否高品质共享课程", "yes_no", note="填“是”或“否”。"),
        Column(
            "grade_students",
            "开设年级学生数",
            "integer",
            required=False,
            minimum=1,
            maximum=100000,
            note="参与学校中开设该课程的年级的学生总数；高品质课程必填。",
        ),
        Column("grades", "开设年级", "text", required=False, note="选填，如：四年级、五年级。"),
    ),
    key=("course", "provider", "semester"),
    model=SharedCourse,
    to_fields=to_fields,
    check=check,
    instructions=(
        "可共享课程数按学年统计（同一课程两个学期都开设只计一门）；“比上年增加”需同时填写上一学年的课程。",
        "每校每学期共享课程数：某学期中该校开设或参与的课程门数，学区/集团每所学校都计算。",
        "高品质共享课程学生覆盖比例 = 高品质课程参与学生数之和 ÷ 对应的开设年级学生数之和"
        "（同一学生参加多门课程会重复计入，请按实际参与人次填写）。",
    ),
    example=("（课程名称）", "（学校名称）", "2025-1", "（学校名称）、（学校名称）", 120, "是", 360, "四年级、五年级"),
)
