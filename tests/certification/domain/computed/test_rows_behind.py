"""The rows behind a figure are kept as the database's tuples and made into dicts only when read (`computed.Rows`).

Reading them must give what the rule says, row for row: the year's rotations of the figure's kind, one row per
teacher (a teacher's rotations merged, a cell that differs holding every value in row order), then the eligible
teachers. The expected rows here are worked out plainly from the roster's dicts, on a roster with the awkward
cases: a teacher rotating twice between different schools, a teacher in two kinds, a teacher into two weak
schools, last year's rows in the same version, and a school with no eligible figure for the year.
"""

import datetime
import pickle
from decimal import Decimal

import pytest
from django.utils import translation

from certification.domain.computed import ApplicationData, compute_indicators
from certification.models import ClusterMembership
from tests.factories.datasets import computed_standard, data_application, data_cluster, load_rows, school

pytestmark = pytest.mark.django_db

LEAD, MEMBER = ClusterMembership.Role.LEAD, ClusterMembership.Role.MEMBER
AUTUMN, SPRING, LAST_YEAR = datetime.date(2025, 9, 1), datetime.date(2026, 3, 1), datetime.date(2024, 9, 1)
ROTATION_METRICS = (
    "rotation_same_stage_rate",
    "rotation_cross_stage_rate",
    "rotation_core_member_rate",
    "kindergarten_rotation_rate",
    "backbone_share_same_stage",
    "backbone_share_cross_stage",
    "backbone_share_core_member",
    "kindergarten_backbone_share",
    "rotation_term_min_years",
    "weak_school_inflow_min",
)


@pytest.fixture(autouse=True)
def chinese():
    with translation.override("zh-hans"):
        yield


def _cluster():
    return data_cluster(
        ("甲校", ["nine_year"], LEAD),
        ("乙校", ["primary"], MEMBER, True),
        ("丙校", ["primary"], MEMBER, True),
        ("丁园", ["kindergarten"], MEMBER),
    )


def _rotation(cluster, teacher, source, target, stages, *, start=AUTUMN, backbone=False, term="3"):
    return {
        "teacher": teacher,
        "from_school": school(cluster, source),
        "to_school": school(cluster, target),
        "from_stage": stages[0],
        "to_stage": stages[1],
        "backbone": backbone,
        "start_date": start,
        "term_years": Decimal(term),
        "year": start.year if start.month >= 8 else start.year - 1,
    }


def _application(eligible):
    cluster = _cluster()
    standard = computed_standard(*((metric, "gte", "0") for metric in ROTATION_METRICS))
    application = data_application(cluster, standard)
    primary, kindergarten = ("primary", "primary"), ("kindergarten", "primary")
    roster = [
        _rotation(cluster, "T1", "甲校", "丙校", primary, backbone=True, term="2"),
        _rotation(cluster, "T2", "乙校", "丙校", primary, term="1"),
        _rotation(cluster, "T3", "丁园", "乙校", kindergarten, backbone=True),
        _rotation(cluster, "T1", "甲校", "乙校", primary, start=SPRING, term="3.5"),  # again, elsewhere: one person
        _rotation(cluster, "T4", "甲校", "乙校", ("junior", "primary"), term="1"),
        _rotation(cluster, "T2", "丙校", "乙校", primary, start=SPRING, backbone=True),
        _rotation(cluster, "T5", "乙校", "丙校", primary, start=LAST_YEAR),  # last year: not counted, not shown
    ]
    load_rows(application, "rotation", roster)
    load_rows(
        application,
        "eligible_teachers",
        [{"school": school(cluster, name), "year": 2025, "teachers": count} for name, count in eligible.items()],
    )
    return application


def _merged(rows):
    """One row per teacher, written out plainly: the first rotation's cells, a cell that differs between the
    teacher's rotations as the tuple of its values, "row" the row numbers joined, and how many rotations."""
    teachers = {}
    for row in rows:
        teachers.setdefault(row["teacher"], []).append(row)
    merged = []
    for own in teachers.values():
        row = {
            key: own[0][key] if len({other[key] for other in own}) == 1 else tuple(r[key] for r in own)
            for key in own[0]
        }
        merged.append({**row, "row": "、".join(str(other["row"]) for other in own), "rotations": len(own)})
    return merged


def _expected(data):
    """{metric: the rows behind it}, from the roster's dicts and the rules."""
    roster = [row for row in data.rows("rotation") if row["year"] == 2025]
    eligible = data.rows("eligible_teachers")
    leads = data.lead_ids
    same = [row for row in roster if row["from_stage"] == row["to_stage"]]
    cross = [row for row in roster if row["from_stage"] != row["to_stage"]]
    core = [row for row in roster if (row["from_school_pk"] in leads) != (row["to_school_pk"] in leads)]
    kindergarten = [row for row in roster if row["from_stage"] == "kindergarten"]
    kindergarten_ids = {school.pk for school in data.teaching("kindergarten")}
    weak = [school.pk for school in data.members if school.is_relatively_weak]
    return {
        "rotation_same_stage_rate": _merged(same) + eligible,
        "rotation_cross_stage_rate": _merged(cross) + eligible,
        "rotation_core_member_rate": _merged(core) + eligible,
        "kindergarten_rotation_rate": _merged(kindergarten)
        + [row for row in eligible if row["school_pk"] in kindergarten_ids],
        "backbone_share_same_stage": _merged(same),
        "backbone_share_cross_stage": _merged(cross),
        "backbone_share_core_member": _merged(core),
        "kindergarten_backbone_share": _merged(kindergarten),
        "rotation_term_min_years": sorted(core, key=lambda row: row["term_years"]),
        # a weak school after another: a teacher received by both is listed under the first, rows in that order
        "weak_school_inflow_min": _merged([row for pk in weak for row in roster if row["to_school_pk"] == pk]),
    }


ELIGIBLE = {"甲校": 40, "乙校": 30, "丙校": 30, "丁园": 10}


def test_each_rotation_figure_shows_the_rows_the_rule_gives_row_for_row():
    application = _application(ELIGIBLE)

    results = {result.indicator.metric: result for result in compute_indicators(application).values()}

    expected = _expected(ApplicationData(application))
    assert {metric: results[metric].rows for metric in ROTATION_METRICS} == expected
    # the dicts keep their keys' order (the API writes them in it)
    assert [list(row) for row in results["rotation_same_stage_rate"].rows] == [
        list(row) for row in expected["rotation_same_stage_rate"]
    ]
    (twice,) = [row for row in results["rotation_same_stage_rate"].rows if row.get("teacher") == "T1"]
    assert (twice["rotations"], twice["from_school"], twice["to_school"], twice["term_years"]) == (
        2,
        "甲校",
        ("丙校", "乙校"),
        (Decimal("2"), Decimal("3.5")),
    )
    assert results["rotation_same_stage_rate"].detail["numerator"] == 2  # T1 and T2, each once
    assert results["weak_school_inflow_min"].detail["breakdown"] == [
        {"label": "乙校", "value": 4},
        {"label": "丙校", "value": 2},
    ]


def test_a_roster_row_reads_as_its_fields_its_schools_names_and_where_it_comes_from():
    application = _application(ELIGIBLE)
    data = ApplicationData(application)

    first = data.rows("rotation")[0]

    assert first == {
        "row": 2,
        "year": 2025,
        "teacher": "T1",
        "from_school_pk": school(application.cluster, "甲校").pk,
        "to_school_pk": school(application.cluster, "丙校").pk,
        "from_stage": "primary",
        "to_stage": "primary",
        "backbone": True,
        "start_date": AUTUMN,
        "term_years": Decimal("2.0"),
        "dataset": "rotation",
        "import_id": application.data_versions.get(dataset="rotation").pk,
        "from_school": "甲校",
        "to_school": "丙校",
    }


def test_a_page_s_tables_are_the_first_rows_of_each_data_set_and_how_many_there_are():
    application = _application(ELIGIBLE)
    (result,) = [
        r for r in compute_indicators(application).values() if r.indicator.metric == "rotation_same_stage_rate"
    ]

    tables = result.behind.tables(2)

    rows = result.rows
    rotation = [row for row in rows if row["dataset"] == "rotation"]
    eligible = [row for row in rows if row["dataset"] == "eligible_teachers"]
    assert tables == [("rotation", rotation[:2], len(rotation)), ("eligible_teachers", eligible[:2], 4)]
    assert len(rotation) == 2 and len(result.behind) == 6


def test_figures_kept_in_the_cache_read_the_same_rows_again():
    application = _application(ELIGIBLE)
    results = compute_indicators(application)
    shown = {pk: result.rows for pk, result in results.items()}  # read once: the dicts are not what is kept

    kept = pickle.loads(pickle.dumps(results))

    assert {pk: result.rows for pk, result in kept.items()} == shown
    assert kept == results


def test_more_rotations_than_eligible_teachers_is_refused_only_when_the_teachers_outnumber_them():
    # Between 甲校 (the lead) and the members: three rotations out of 甲校 this year, by two teachers (T1 twice).
    fits = _application({"甲校": 2, "乙校": 1, "丙校": 1, "丁园": 1})
    # Same-stage, 甲校 sends T1 (twice) and 丙校 sends T2, neither having an eligible teacher; 乙校 sends T2, its one.
    over = _application({"甲校": 0, "乙校": 1, "丙校": 0, "丁园": 1})

    fitting = {r.indicator.metric: r for r in compute_indicators(fits).values()}
    refused = {r.indicator.metric: r for r in compute_indicators(over).values()}

    assert (fitting["rotation_core_member_rate"].missing_data, fitting["rotation_core_member_rate"].detail) == (
        "",
        {"year": 2025, "numerator": 2, "denominator": 5, "counted": "核心校与成员校之间的轮岗"},
    )
    assert refused["rotation_same_stage_rate"].missing_data == (
        "轮岗教师多于符合交流条件的教师（甲校：轮岗 1 人，符合交流条件 0 人；丙校：轮岗 1 人，符合交流条件 0 人），请更正数据。"
    )
    assert refused["rotation_core_member_rate"].missing_data == (
        "轮岗教师多于符合交流条件的教师（甲校：轮岗 2 人，符合交流条件 0 人），请更正数据。"
    )
    assert (refused["kindergarten_rotation_rate"].missing_data, refused["kindergarten_rotation_rate"].value) == (
        "",
        1,
    )
    # a refused figure still shows its rows: the teachers, then the eligible teachers
    assert refused["rotation_core_member_rate"].rows == _expected(ApplicationData(over))["rotation_core_member_rate"]
