"""Filled sample workbooks for the demo: the seven data sets of a cluster, as a lead would fill its templates.

A demo user has no Excel at hand to fill seven workbooks, so `build_sample_workbooks` fills the very template the
lead downloads (`certification.datasets.template.build_template`) for the cluster's real member schools, and the
files import cleanly through `certification.domain.datasets.start_import`. Everything in them is illustrative:
teachers are staff numbers (nobody is named), and counts follow the demo schools' illustrative student and teacher
numbers (fixtures/demo).

How the figures are made, for a cluster whose schools teach two or more stages (community schools, which teach no
stage, only provide a course):

* Eligible teachers: two thirds of each school's teachers (rounded down), school year `year` only.
* Rotation roster, school year `year`: ⌈15%⌉ (pass) or ⌊9%⌋ (fail) of the eligible teachers rotate within a stage,
  ⌈6%⌉ across stages; every third teacher is a backbone teacher (term 4 years, the others 3). When the cluster has
  lead/core schools, every rotation is between one of them and a member school. Each relatively weak school
  receives a team of 4 same-stage teachers (fail: 2). A kindergarten, if any, sends ⌈6%⌉ of its eligible teachers.
* Shared courses: 7 courses in `year` (3 high-quality), 6 in `year - 1` (2 high-quality); one cluster-wide course
  every semester reaches every school. High-quality courses reach 42% (fail: 30%) of the students in their grades.
* School statistics: every student covered and every teacher in cluster work (fail: the largest staff has 2 out).
* Academic results for `year` and `year - 1`: mean scores with an inter-school difference rate of about 0.04 per
  stage (fail: about 0.16 in the primary stage, the weak school far behind); pass shares above the district
  average, every junior school ≥ 99.5%; weak schools 1.5 points better than last year.
* Enrolment (junior schools): the quota plan is filled; entry rate 68.5% against a district average of 62%.
* Satisfaction: parents 95% (fail: 89%), teachers 96%, students 93%.

The figures this gives for 天平-湖南学区 (徐汇区: 10 schools with stages and 2 community schools, no lead school, no
kindergarten, 世界小学 relatively weak), school year 2025; tests/certification/datasets/test_samples.py checks them exactly.
Close-knit (紧密型) indicators B1–D1, district-model (区级示范性) B1–E6, and the city standard's weak-school gain:

=======================================================  =======================  ==========================
indicator (rule)                                         outcome="pass"           outcome="fail"
=======================================================  =======================  ==========================
紧密型 B1 same-stage rotation ÷ eligible (10–20%)         77 / 509 = 15.13%        45 / 509 = 8.84%  FAIL
紧密型 B2 cross-stage rotation ÷ eligible (≥ 5%)          31 / 509 = 6.09%         31 / 509 = 6.09%
backbone ÷ rotated (≥ 20%)                               36 / 108 = 33.33%        26 / 76 = 34.21%
紧密型 B4, B5 kindergarten rotation and backbone share    N/A (no kindergarten)    N/A
紧密型 B6 teachers in cluster work (100%)                 771 / 771 = 100%         769 / 771 = 99.74%  FAIL
high-quality shared courses (≥ 2)                        3                        3
students who took one ÷ students in its grades (≥ 1/3)   2652 / 6308 = 42.04%     1890 / 6308 = 29.96%  FAIL
紧密型 D1 students covered by shared resources (100%)     9420 / 9420 = 100%       9420 / 9420 = 100%
区级 B1 core↔member rotation ÷ eligible (≥ 10%)           0% (no lead school)      0%  FAIL
区级 B3 shortest rotation term (≥ 3 years)                3 years                  3 years
区级 B4 fewest teachers into a weak school (≥ 3)          4 (世界小学)             2  FAIL
区级 C2, C3 shared courses (≥ 5), versus last year (> 0)  7, +1 (6 in 2024)        7, +1
区级 C4 fewest courses of a school in a semester (≥ 1)    1                        1
区级 E1 share at 合格及以上 − district average (≥ 0)       +1.59 points (primary)   +1.59 points
区级 E2 校际差异率, largest stage (< 0.15)                 0.04                     0.16 (primary)  FAIL
区级 E3 junior pass rate (≥ 99%)                          99.62%                   99.62%
区级 E4 quota plan completion (100%)                      138 / 138 = 100%         100%
区级 E5 quality senior-high entry − district (≥ 0)        +6.5 points              +6.5 points
区级 E6 lowest satisfaction of parents, teachers (≥ 90%)  95% (teachers 96.04%)    89% (parents)  FAIL
市级 E8 weak school gain in pass share (> 0)              +1.5 points              +1.5 points
=======================================================  =======================  ==========================

Seed 003 names no lead school for 天平-湖南学区, so a rotation between a core and a member school cannot exist there:
district-model B1 fails for it whatever the roster (its close-knit standard, the tier it can apply for, does not ask
for it). For a cluster with lead schools, e.g. 海沧区 东孚一学区, every computed indicator of both standards passes
(core↔member 49 / 230 = 21.3%).
"""

import datetime
import math
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from io import BytesIO
from pathlib import Path

from django.conf import settings
from openpyxl import load_workbook

from certification.datasets import DATASETS
from certification.datasets.template import build_template
from certification.models import ClusterMembership, School, Stage

OUTCOMES = ("pass", "fail")
# The file name of each data set's workbook, as the template's sheet is called.
FILE_TITLES = {code: dataset.title for code, dataset in DATASETS.items()}
STAGE_LABELS = {"kindergarten": "幼儿园", "primary": "小学", "junior": "初中", "senior": "高中"}
# Grades per stage in Shanghai's 5-4-3 system; a school's students are spread evenly over its grades.
GRADES = {"kindergarten": 3, "primary": 5, "junior": 4, "senior": 3}

ELIGIBLE_SHARE = Decimal(2) / 3
SAME_STAGE_RATE = {"pass": Decimal("0.15"), "fail": Decimal("0.09")}
CROSS_STAGE_RATE = Decimal("0.06")
KINDERGARTEN_RATE = Decimal("0.06")
WEAK_TEAM = {"pass": 4, "fail": 2}
HIGH_QUALITY_REACH = {"pass": Decimal("0.42"), "fail": Decimal("0.30")}
TEACHERS_LEFT_OUT = {"pass": 0, "fail": 2}
PARENT_SATISFACTION = {"pass": Decimal("0.95"), "fail": Decimal("0.89")}
SCORE_SPREAD = {"pass": Decimal("0.04"), "fail": Decimal("0.16")}  # target 校际差异率
MEAN_SCORE = {"primary": Decimal("86"), "junior": Decimal("78"), "senior": Decimal("80")}
DISTRICT_PASS_SHARE = {"primary": Decimal("96.5"), "junior": Decimal("98.0"), "senior": Decimal("97.0")}
# Offsets above the district average, in turn for each school of a stage (the weak school gets the last).
PASS_SHARE_OFFSETS = [Decimal("1.8"), Decimal("1.4"), Decimal("2.0"), Decimal("1.6"), Decimal("1.2")]
# Shapes of the mean scores around the stage mean, in turn for each school; a weak school sits below all of them.
SCORE_SHAPE = [Decimal("1.0"), Decimal("0.4"), Decimal("-0.2"), Decimal("0.7"), Decimal("-0.5"), Decimal("0.1")]
WEAK_SHAPE = Decimal("-1.6")


@dataclass(frozen=True)
class Course:
    name: str
    high_quality: bool
    stage: str = ""  # the stage whose schools take it; "" for every school
    grades: str = ""
    this_year_only: bool = False


COURSES = (
    Course("学区联合主题实践课程", False),
    Course("交响乐欣赏与实践", True, "primary", "四年级、五年级"),
    Course("STEM+国际融合课程", True, "junior", "六年级、七年级"),
    Course("民乐合奏", True, "primary", "三年级、四年级", this_year_only=True),
    Course("科技创新实验", False),
    Course("经典阅读（图书馆共建）", False),
    Course("社区非遗体验课", False),
)


def _up(value):
    return int(Decimal(value).to_integral_value(rounding=ROUND_CEILING))


def _down(value):
    return int(Decimal(value).to_integral_value(rounding=ROUND_FLOOR))


def _two_places(value):
    return float(Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


class _Cluster:
    """The cluster's schools as the samples need them: stages taught, leads, weak schools, per-grade cohorts."""

    def __init__(self, cluster):
        memberships = list(ClusterMembership.objects.filter(cluster=cluster).select_related("school").order_by("id"))
        self.cluster = cluster
        self.leads = {m.school_id for m in memberships if m.role in ClusterMembership.LEAD_ROLES}
        self.members = [m.school for m in memberships]
        self.schools = [school for school in self.members if school.kind != School.Kind.COMMUNITY]
        self.community = [school for school in self.members if school.kind == School.Kind.COMMUNITY]

    @staticmethod
    def stages(school):
        return [stage for stage in STAGE_LABELS if school.teaches(stage)]

    def teaching(self, stage):
        return [school for school in self.schools if school.teaches(stage)]

    def cohort(self, school):
        """Students in one grade of the school."""
        grades = sum(GRADES[stage] for stage in self.stages(school)) or 1
        return max(school.student_count // grades, 1)

    def pairs_allowed(self, one, other):
        """Rotations go between a lead and a member school when the cluster has leads, else between any two."""
        if one == other:
            return False
        return not self.leads or ((one.pk in self.leads) != (other.pk in self.leads))

    def eligible(self, school):
        return _down(school.teacher_count * ELIGIBLE_SHARE)


def _fill(dataset_code, cluster, rows):
    """The template of the data set for the cluster with `rows` (lists of cell values) from row 2, as bytes."""
    dataset = DATASETS[dataset_code]
    workbook = load_workbook(BytesIO(build_template(dataset, cluster)))
    sheet = workbook[dataset.title]
    for row_number, row in enumerate(rows, 2):
        for column_number, value in enumerate(row, 1):
            cell = sheet.cell(row=row_number, column=column_number, value=value)
            if isinstance(value, datetime.date):
                cell.number_format = "yyyy-mm-dd"
    stream = BytesIO()
    workbook.save(stream)
    return stream.getvalue()


# Rotation ----------------------------------------------------------------------------------------------------


def _rotations(info, outcome):
    """(from school, to school, from stage, to stage) of every rotation starting in school year `year`."""
    eligible_total = sum(info.eligible(school) for school in info.schools)
    moves = []
    kindergartens = info.teaching(Stage.KINDERGARTEN)
    kindergarten_count = _up(sum(info.eligible(school) for school in kindergartens) * KINDERGARTEN_RATE)
    kindergarten_pairs = [(a, b) for a in kindergartens for b in kindergartens if info.pairs_allowed(a, b)]
    for number in range(kindergarten_count if kindergarten_pairs else 0):
        source, target = kindergarten_pairs[number % len(kindergarten_pairs)]
        moves.append((source, target, "kindergarten", "kindergarten"))

    target = eligible_total * SAME_STAGE_RATE[outcome]
    same_stage = _up(target) if outcome == "pass" else _down(target)
    for weak in (school for school in info.schools if school.is_relatively_weak):
        for stage in info.stages(weak):
            senders = [school for school in info.teaching(stage) if info.pairs_allowed(school, weak)]
            for number in range(WEAK_TEAM[outcome] if senders else 0):
                moves.append((senders[number % len(senders)], weak, stage, stage))
            break  # one team per weak school, into its first stage
    pairs = [
        (a, b, stage, stage)
        for stage in STAGE_LABELS
        if stage != "kindergarten"
        for a in info.teaching(stage)
        for b in info.teaching(stage)
        if info.pairs_allowed(a, b) and not b.is_relatively_weak
    ]
    for number in range(max(same_stage - len(moves), 0) if pairs else 0):
        moves.append(pairs[number % len(pairs)])

    cross = [
        (a, b, from_stage, to_stage)
        for a in info.schools
        for b in info.schools
        if info.pairs_allowed(a, b) and not b.is_relatively_weak
        for from_stage in info.stages(a)
        for to_stage in info.stages(b)
        if from_stage != to_stage and "kindergarten" not in (from_stage, to_stage)
    ]
    for number in range(_up(eligible_total * CROSS_STAGE_RATE) if cross else 0):
        moves.append(cross[number % len(cross)])
    return moves


def _rotation_rows(info, year, outcome):
    rows = []
    for number, (source, target, from_stage, to_stage) in enumerate(_rotations(info, outcome)):
        backbone = number % 3 == 0
        # Most start with the school year; every sixth at the spring semester, which still counts to `year`.
        start = datetime.date(year + 1, 2, 16) if number % 6 == 5 else datetime.date(year, 9, 1)
        rows.append(
            [
                f"JL{year}-{number + 1:04d}",
                source.name,
                target.name,
                STAGE_LABELS[from_stage],
                STAGE_LABELS[to_stage],
                "是" if backbone else "否",
                start,
                4 if backbone else 3,
            ]
        )
    return rows


def _eligible_rows(info, year, outcome):
    return [[school.name, year, info.eligible(school)] for school in info.schools]


# Shared courses and school statistics ------------------------------------------------------------------------


def _course_rows(info, year, outcome):
    rows = []
    schools = info.schools
    for course_year in (year - 1, year):
        offered = [course for course in COURSES if course_year == year or not course.this_year_only]
        for number, course in enumerate(offered):
            taking = info.teaching(course.stage) if course.stage else schools
            taking = taking or schools
            if course.name == COURSES[0].name:
                provider, participants = taking[0], taking
            elif course.name == COURSES[-1].name and info.community:
                provider = info.community[0]
                participants = [provider, *taking[:2]]
            else:
                provider = taking[number % len(taking)]
                start = taking.index(provider)
                participants = [taking[(start + step) % len(taking)] for step in range(min(3, len(taking)))]
            for semester in (1, 2):
                rows.append(_course_row(info, course, provider, participants, f"{course_year}-{semester}", outcome))
    return rows


def _course_row(info, course, provider, participants, semester, outcome):
    schools = [school for school in participants if school.kind != School.Kind.COMMUNITY]
    grade_count = len(course.grades.split("、")) if course.grades else 1
    grade_students = sum(info.cohort(school) for school in schools) * grade_count
    if course.high_quality:
        reach = HIGH_QUALITY_REACH[outcome]
        students = _up(grade_students * reach) if outcome == "pass" else _down(grade_students * reach)
        offered_to = grade_students
    else:
        students = max(sum(info.cohort(school) for school in schools) // 2, 1)
        offered_to = None
    return [
        course.name,
        provider.name,
        semester,
        "、".join(school.name for school in participants),
        students,
        "是" if course.high_quality else "否",
        offered_to,
        course.grades or None,
    ]


def _school_stats_rows(info, year, outcome):
    largest = max(info.schools, key=lambda school: school.teacher_count, default=None)
    rows = []
    for school in info.schools:
        left_out = TEACHERS_LEFT_OUT[outcome] if school == largest else 0
        teachers = school.teacher_count
        rows.append([school.name, year, school.student_count, teachers, teachers - left_out, school.student_count])
    return rows


# Results, enrolment, satisfaction ----------------------------------------------------------------------------


def _scores(schools, stage, outcome):
    """Each school's mean score: shaped around the stage mean so that the 校际差异率 is about the target."""
    spread = SCORE_SPREAD[outcome] if stage == "primary" else SCORE_SPREAD["pass"]
    shape = [
        WEAK_SHAPE if school.is_relatively_weak else SCORE_SHAPE[n % len(SCORE_SHAPE)]
        for n, school in enumerate(schools)
    ]
    centre = sum(shape) / len(shape)
    deviation = Decimal(math.sqrt(sum((value - centre) ** 2 for value in shape) / len(shape)))
    mean = MEAN_SCORE[stage]
    if deviation == 0:
        return [mean for _school in schools]
    return [mean * (1 + spread * (value - centre) / deviation) for value in shape]


def _passed(tested, share):
    """Students at pass level or above out of `tested` for a share in percent, rounded half-up to a person."""
    return int((tested * share / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _academic_rows(info, year, outcome):
    rows = []
    for stage in ("primary", "junior", "senior"):
        schools = info.teaching(stage)
        if not schools:
            continue
        scores = _scores(schools, stage, outcome)
        for school, score in zip(schools, scores, strict=True):
            offset = PASS_SHARE_OFFSETS[schools.index(school) % len(PASS_SHARE_OFFSETS)]
            if stage == "junior":
                offset = Decimal("1.2") + offset / 4  # every junior school at or above 99.5%
            share = min(DISTRICT_PASS_SHARE[stage] + offset, Decimal(100))
            # Last year: every school a little lower; a weak school 1.5 points lower, so it shows its progress.
            last_share = share - (Decimal("1.5") if school.is_relatively_weak else Decimal("0.6"))
            tested = info.cohort(school)
            for row_year, row_share, row_score in ((year - 1, last_share, score - 1), (year, share, score)):
                rows.append(
                    [
                        school.name,
                        STAGE_LABELS[stage],
                        row_year,
                        tested,  # everyone who should be tested was (应考尽考)
                        tested,
                        _two_places(row_score),
                        _passed(tested, row_share),
                        _two_places(DISTRICT_PASS_SHARE[stage] - (Decimal("0.3") if row_year < year else 0)),
                    ]
                )
    return rows


def _enrolment_rows(info, year, outcome):
    rows = []
    for school in info.teaching(Stage.JUNIOR):
        graduates = info.cohort(school)
        plan = max(_up(graduates * Decimal("0.18")), 1)
        rows.append([school.name, year, graduates, plan, plan, 68.5, 62.0])
    return rows


def _satisfaction_rows(info, year, outcome):
    students = sum(school.student_count for school in info.schools)
    teachers = sum(school.teacher_count for school in info.schools)
    parents = max(_down(students * Decimal("0.85")), 1)
    pupils = max(_down(students * Decimal("0.5")), 1)
    teacher_answers = max(_down(teachers * Decimal("0.95")), 1)
    parent_rate = PARENT_SATISFACTION[outcome]
    return [
        ["家长", year, parents, _up(parents * parent_rate) if outcome == "pass" else _down(parents * parent_rate)],
        ["教师", year, teacher_answers, _up(teacher_answers * Decimal("0.96"))],
        ["学生", year, pupils, _up(pupils * Decimal("0.93"))],
    ]


ROWS = {
    "rotation": _rotation_rows,
    "eligible_teachers": _eligible_rows,
    "shared_courses": _course_rows,
    "school_stats": _school_stats_rows,
    "academic_results": _academic_rows,
    "enrolment": _enrolment_rows,
    "satisfaction": _satisfaction_rows,
}


def build_sample_workbooks(cluster, *, year, outcome="pass"):
    """{data set code: .xlsx bytes} of all seven data sets for `cluster`'s member schools, filled for `year`.

    `outcome` "pass" makes every computed indicator pass that the cluster's schools allow (see the module's table);
    "fail" makes a few fail just past their thresholds. Each workbook is the data set's template filled from row 2,
    so it imports as it is. Reads the database; changes nothing.
    """
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {OUTCOMES}, not {outcome!r}")
    info = _Cluster(cluster)
    return {code: _fill(code, cluster, ROWS[code](info, year, outcome)) for code in DATASETS}


def sample_file_name(dataset_code, year):
    """The workbook's file name: the data set's sheet title and the year, e.g. 交流轮岗名册-2025.xlsx."""
    return f"{FILE_TITLES[dataset_code]}-{year}.xlsx"


def write_sample_workbooks(cluster, *, year, outcome="pass", directory=None):
    """Write the cluster's sample workbooks into `directory` (default MEDIA_ROOT/demo-workbooks/<cluster>/).

    Returns the folder and the paths written, in data-set order.
    """
    directory = Path(directory) if directory else Path(settings.MEDIA_ROOT) / "demo-workbooks" / cluster.name
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for code, content in build_sample_workbooks(cluster, year=year, outcome=outcome).items():
        path = directory / sample_file_name(code, year)
        path.write_bytes(content)
        paths.append(path)
    return directory, paths
