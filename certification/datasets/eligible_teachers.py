"""符合交流条件教师: the teachers of each school eligible for rotation in a school year (seed 000, seed 002)."""

from certification.models import EligibleTeachers

from .base import Column, Dataset

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
    instructions=(
        "这是各项交流轮岗比例的分母，请为学区/集团的每一所学校填写。",
        "幼儿园的教师数单独用于计算幼儿园交流轮岗比例。",
    ),
    example=("（学校名称）", 2025, 80),
)
