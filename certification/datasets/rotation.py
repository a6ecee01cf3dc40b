"""交流轮岗名册: one row per teacher rotating from one school of the cluster to another (seed 000, seed 002)."""

from collections import defaultdict
from decimal import Decimal

from django.utils.translation import gettext as _

from certification.models import EligibleTeachers, RotationRecord

from .base import Column, Dataset, school_year_of, stage_choices

STAGES = stage_choices("kindergarten", "primary", "junior", "senior")


def check(values):
    errors = []
    if values["from_school"] == values["to_school"]:
        errors.append(("to_school", _("The teacher rotates to the school they come from; enter a different school.")))
    for school_key, stage_key in (("from_school", "from_stage"), ("to_school", "to_stage")):
        school, stage = values[school_key], values[stage_key]
        if not school.teaches(stage):
            errors.append((stage_key, _("%(school)s does not teach this stage.") % {"school": school.name}))
    return errors


def check_import(dataset_import):
    """A school cannot rotate more teachers in a year than it has eligible teachers (issue 9, rule 2): each teacher
    beyond the eligible-teacher figure already imported is refused at their row. Without that figure, the computed
    page says what is missing."""
    figures = EligibleTeachers.objects.current(dataset_import.cluster, dataset_import.school_year)
    eligible = {
        (school, year): teachers for school, year, teachers in figures.values_list("school_id", "year", "teachers")
    }
    rotated, errors = defaultdict(set), []
    rows = RotationRecord.objects.filter(dataset_import=dataset_import).order_by("row_number")
    for row, school, name, year, teacher in rows.values_list(
        "row_number", "from_school_id", "from_school__name", "year", "teacher"
    ):
        key = (school, year)
        rotated[key].add(teacher)
        if key in eligible and len(rotated[key]) > eligible[key]:
            reason = _(
                "More teachers of %(school)s rotate in %(year)s than its %(eligible)s eligible teachers; a rate "
                "cannot exceed 100%%. Check the roster or the eligible teachers."
            ) % {"school": name, "year": year, "eligible": eligible[key]}
            errors.append((row, "from_school", reason))
    return errors


def to_fields(values):
    fields = dict(values)
    fields["year"] = school_year_of(values["start_date"])
    return fields


DATASET = Dataset(
    code="rotation",
    title="交流轮岗名册",
    columns=(
        Column(
            "teacher",
            "教师工号",
            "text",
            note="工号或其他稳定的唯一编号（姓名会重名，不能代替工号）；同一教师同一起始日期只填一行。",
        ),
        Column("from_school", "调出学校", "school", note="从下拉列表选择本学区/集团的学校。"),
        Column("to_school", "调入学校", "school", note="从下拉列表选择，不能与调出学校相同。"),
        Column("from_stage", "调出学段", "choice", choices=STAGES, note="幼儿园、小学、初中或高中。"),
        Column("to_stage", "调入学段", "choice", choices=STAGES, note="与调出学段相同为同学段交流，不同为跨学段交流。"),
        Column("backbone", "是否骨干教师", "yes_no", note="填“是”或“否”。"),
        Column(
            "start_date",
            "轮岗起始日期",
            "date",
            note="日期格式，如 2025-09-01。8月及以后开始的轮岗计入当年学年，1–7月开始的计入上一学年。",
        ),
        Column(
            "term_years",
            "轮岗期限（年）",
            "decimal",
            minimum=Decimal("0.5"),
            maximum=Decimal("10"),
            places=1,
            note="0.5 至 10 之间，最多一位小数。",
        ),
    ),
    key=("teacher", "start_date"),
    model=RotationRecord,
    to_fields=to_fields,
    check=check,
    check_import=check_import,
    instructions=(
        "每位参加交流轮岗的教师填写一行；同一教师一年内轮岗两次只计一人。",
        "交流轮岗率 = 某学年开始轮岗的教师人数 ÷ 该学年符合交流条件教师总数（见“符合交流条件教师”数据）。",
        "核心校（牵头校）与成员校之间的流动按调出、调入学校在学区/集团中的角色自动识别。",
        "流入相对薄弱学校的教师按调入学校统计，每所接收教师的薄弱学校原则上不少于3人。",
    ),
    example=("张老师（示例）", "（学校名称）", "（学校名称）", "小学", "小学", "是", "2025-09-01", 3),
)
