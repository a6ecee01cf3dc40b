"""符合交流条件教师: the teachers of each school eligible for rotation in a school year (seed 000, seed 002)."""

from collections import defaultdict

from django.utils.translation import gettext as _

from certification.models import EligibleTeachers, RotationRecord

from .base import Column, Dataset


def check_import(dataset_import):
    """A school's eligible teachers cannot be fewer than the distinct teachers the roster already imported has
    rotating out of it that year (issue 9, rule 2: a numerator never exceeds its denominator)."""
    rotated = defaultdict(set)
    roster = RotationRecord.objects.current(dataset_import.cluster, dataset_import.school_year)
    for school, year, teacher in roster.values_list("from_school_id", "year", "teacher"):
        rotated[(school, year)].add(teacher)
    errors = []
    rows = EligibleTeachers.objects.filter(dataset_import=dataset_import).order_by("row_number")
    for row, school, year, teachers in rows.values_list("row_number", "school_id", "year", "teachers"):
        count = len(rotated.get((school, year), ()))
        if count > teachers:
            reason = _(
                "Fewer than the %(rotated)s teachers of this school who rotate in %(year)s in the roster already "
                "imported; a rate cannot exceed 100%%."
            ) % {"rotated": count, "year": year}
            errors.append((row, "teachers", reason))
    return errors


DATASET = Dataset(
    code="eligible_teachers",
    title="符合交流条件教师",
    columns=(
        Column("school", "学校", "school", note="从下拉列表选择本学区/集团的学校；每所学校每学年一行。"),
        Column("year", "学年", "year", note="四位数字，如 2025 表示 2025 学年（2025年9月至2026年8月）。"),
        Column("teachers", "符合交流条件教师数", "integer", minimum=0, maximum=10000, note="0 至 10000 的整数。"),
    ),
    key=("school", "year"),
    model=EligibleTeachers,
    to_fields=dict,
    check_import=check_import,
    instructions=(
        "这是各项交流轮岗比例的分母，请为学区/集团的每一所学校填写。",
        "幼儿园的教师数单独用于计算幼儿园交流轮岗比例。",
    ),
    example=("（学校名称）", 2025, 80),
)
