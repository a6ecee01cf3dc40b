"""The shipped standards (fixtures/standards/*.json) against DOMAIN.md and the seeds; the load_standards command."""

import io
import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from certification.models import AuditEvent, Indicator, Standard, Tier
from certification.models.standard import parse_threshold
from certification.models.standard_rules import DATASETS, validate_standard_data
from tests.factories.standards import load_shipped_standards

FIXTURES = Path(settings.BASE_DIR) / "fixtures" / "standards"
# The policy texts sit beside the clone (../shared/seeds), as on every developer machine and in CI.
SEEDS = Path(settings.BASE_DIR).parent / "shared" / "seeds"

# DOMAIN.md, "Quantitative rules in the seeds", written out here from the table (not from the fixtures):
# (metric, comparator, threshold, upper threshold). Rates are fractions of 1.
# "2–3 high-quality shared courses" is ≥ 2: the seeds' 2–3 is a scale to strive for, not a ceiling (see the
# indicator's description).
CLOSE_KNIT_RULES = {
    ("rotation_same_stage_rate", "between", "0.10", "0.20"),  # 10–20%
    ("rotation_cross_stage_rate", "gte", "0.05", ""),  # ≥5%
    # "其中骨干教师比例均不低于……20%": same-stage and cross-stage rotation each (issue 9, rule 3).
    ("backbone_share_same_stage", "gte", "0.20", ""),  # ≥20%
    ("backbone_share_cross_stage", "gte", "0.20", ""),  # ≥20%
    ("kindergarten_rotation_rate", "gte", "0.05", ""),  # ≥5%
    ("kindergarten_backbone_share", "gte", "0.30", ""),  # ≥30%
    ("high_quality_course_count", "gte", "2", ""),  # 2–3
    ("high_quality_course_student_share", "gte", "1/3", ""),  # ≥1/3
    ("shared_resource_student_coverage", "gte", "1", ""),  # 100%
    ("teacher_participation_rate", "gte", "1", ""),  # 100%
}
DISTRICT_MODEL_RULES = {
    ("rotation_core_member_rate", "gte", "0.10", ""),  # ≥10% core ↔ member
    ("backbone_share_core_member", "gte", "0.20", ""),  # ≥20% of the core ↔ member flow ("其中")
    ("rotation_term_min_years", "gte", "3", ""),  # ≥3 years
    ("weak_school_inflow_min", "gte", "3", ""),  # ≥3 per receiving weak school
    ("shared_course_count", "gte", "5", ""),  # ≥5
    ("shared_course_growth", "gt", "0", ""),  # more than last year
    ("shared_courses_per_school_semester_min", "gte", "1", ""),  # ≥1 per school per semester
    ("high_quality_course_count", "gte", "2", ""),  # 2–3
    ("high_quality_course_student_share", "gte", "1/3", ""),  # ≥1/3
    ("pass_share_margin", "gte", "0", ""),  # ≥ district average
    ("inter_school_difference_rate_max", "lt", "0.15", ""),  # < 0.15
    ("junior_pass_rate", "gte", "0.99", ""),  # ≥99%
    ("quota_plan_completion", "gte", "1", ""),  # 100%
    ("quality_senior_entry_margin", "gte", "0", ""),  # ≥ district average
    ("satisfaction_min", "gte", "0.90", ""),  # ≥90%
    ("weak_school_improvement_min", "gt", "0", ""),  # "相对薄弱学校进步明显" (issue 9, rule 11)
}
# The reference city standard: every district-model rule plus the city-level expectations of DOMAIN.md.
CITY_MODEL_RULES = DISTRICT_MODEL_RULES | {
    ("district_model_years_held", "gte", "1", ""),  # held 区级示范性 ≥ 1 year
}
EXPECTED_RULES = {
    Tier.CLOSE_KNIT: CLOSE_KNIT_RULES,
    Tier.DISTRICT_MODEL: DISTRICT_MODEL_RULES,
    Tier.CITY_MODEL: CITY_MODEL_RULES,
}
# Rules that only exist for clusters with a kindergarten or a junior school: N/A must be allowed.
KINDERGARTEN_OR_JUNIOR_ONLY = {
    "kindergarten_rotation_rate",
    "kindergarten_backbone_share",
    "junior_pass_rate",
    "quota_plan_completion",
    "quality_senior_entry_margin",
}


def _exact(threshold):
    return parse_threshold(threshold) if threshold else None


@pytest.fixture
def shipped(db):
    return load_shipped_standards()


@pytest.mark.parametrize("tier", list(EXPECTED_RULES))
def test_shipped_standard_has_every_domain_rule_as_computed_indicator(shipped, tier):
    computed = Indicator.objects.filter(dimension__standard=shipped[tier], method=Indicator.Method.COMPUTED)

    found = {(i.metric, i.comparator, _exact(i.threshold), _exact(i.threshold_high)) for i in computed}

    assert found == {(m, c, _exact(low), _exact(high)) for m, c, low, high in EXPECTED_RULES[tier]}


@pytest.mark.parametrize("tier", list(EXPECTED_RULES))
def test_shipped_standard_max_scores_add_up_to_total(shipped, tier):
    standard = shipped[tier]

    total = sum(i.max_score for i in standard.indicators())

    assert total == standard.total_score == Decimal("100")


def test_shipped_standards_published_with_pass_scores_rising_by_tier(shipped):
    assert {tier: (s.status, s.pass_score, s.publicity_days, s.validity_years) for tier, s in shipped.items()} == {
        Tier.CLOSE_KNIT: ("published", Decimal("75"), 7, 3),
        Tier.DISTRICT_MODEL: ("published", Decimal("80"), 7, 3),
        Tier.CITY_MODEL: ("published", Decimal("85"), 7, 3),
    }


def test_shipped_standards_ask_for_yearly_review_evaluators_from_the_district_tier_up(shipped):
    """Seed 002: "区级每年组织评估" by "第三方专业教育评估机构": the model tiers' yearly reviews have a panel (the
    city's of three, as an application panel); 紧密型's is the office's alone."""
    assert {tier: s.yearly_evaluators for tier, s in shipped.items()} == {
        Tier.CLOSE_KNIT: 0,
        Tier.DISTRICT_MODEL: 2,
        Tier.CITY_MODEL: 3,
    }


# Seed 002 §12 states every condition with a number as a must ("不低于……，且……低于0.15……；涉及初中学段的，……；
# ……不低于90%"): each is a veto. "相对薄弱学校进步明显" has no number, so its computed floor is scored, not a veto.
SECTION_12_VETOES = {
    "pass_share_margin",
    "inter_school_difference_rate_max",
    "junior_pass_rate",
    "quota_plan_completion",
    "quality_senior_entry_margin",
    "satisfaction_min",
}


def test_shipped_standards_veto_the_numbered_conditions_of_seed_002_section_12(shipped):
    vetoes = {tier: {i.metric for i in s.indicators().filter(veto=True)} for tier, s in shipped.items()}

    assert vetoes == {
        Tier.CLOSE_KNIT: set(),
        Tier.DISTRICT_MODEL: SECTION_12_VETOES,
        Tier.CITY_MODEL: SECTION_12_VETOES | {"district_model_years_held"},
    }


def test_shipped_vetoes_that_may_be_na_say_what_happens_then(shipped):
    vetoes = [i for s in shipped.values() for i in s.indicators().filter(veto=True)]

    assert all("一票否决" in i.description for i in vetoes)
    assert {(i.code, "不适用" in i.description and "不否决" in i.description) for i in vetoes if i.na_allowed} == {
        ("E3", True),
        ("E4", True),
        ("E5", True),
    }


def test_shipped_kindergarten_and_junior_only_indicators_allow_na(shipped):
    refusing_na = [
        (s.tier, i.code)
        for s in shipped.values()
        for i in s.indicators().filter(metric__in=KINDERGARTEN_OR_JUNIOR_ONLY, na_allowed=False)
    ]
    kindergarten_scored = Indicator.objects.filter(title__contains="幼儿园", method="scored")

    assert refusing_na == []
    assert [(i.code, i.na_allowed) for i in kindergarten_scored] == [("C5", True)]


def test_shipped_scored_indicators_have_three_or_four_levels(shipped):
    counts = {(s.tier, i.code): len(i.levels) for s in shipped.values() for i in s.indicators().filter(method="scored")}

    assert len(counts) == 13 + 11 + 12
    assert set(counts.values()) <= {3, 4}


def test_shipped_city_standard_says_it_is_a_reference_for_excel_import(shipped):
    description = shipped[Tier.CITY_MODEL].description

    assert "参考标准" in description
    assert "Excel 导入" in description
    assert shipped[Tier.CITY_MODEL].indicators().get(code="F2").method == "scored"


ALL_DATASETS = {
    "rotation",
    "eligible_teachers",
    "shared_courses",
    "school_stats",
    "academic_results",
    "enrolment",
    "satisfaction",
}


@pytest.mark.parametrize(
    ("name", "datasets"),
    [
        # 紧密型 has no enrolment rule; its outcome stage asks for results and satisfaction (E1).
        ("close_knit.json", ALL_DATASETS - {"enrolment"}),
        ("district_model.json", ALL_DATASETS),
        ("city_model.json", ALL_DATASETS),
    ],
)
def test_fixture_file_valid_with_evidence_for_every_stage(name, datasets):
    data = json.loads((FIXTURES / name).read_text(encoding="utf-8"))

    _cleaned, problems = validate_standard_data(data)
    evidence = [e for d in data["dimensions"] for i in d["indicators"] for e in i["evidence"]]

    assert problems == []
    assert {e["stage"] for e in evidence} == {"basic", "process", "outcome"}
    assert {"charter", "committee", "plan", "self_assessment"} <= {e["code"] for e in evidence if e["stage"] == "basic"}
    assert {e["dataset"] for e in evidence} - {""} == datasets
    assert set(DATASETS) == ALL_DATASETS


@pytest.mark.parametrize("name", ["close_knit.json", "district_model.json", "city_model.json"])
def test_fixture_sources_quote_the_seeds_verbatim(name):
    if not SEEDS.is_dir():
        pytest.skip("the seed texts live in ../shared/seeds beside the clone; CI has them")
    data = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    missing = []

    for dimension in data["dimensions"]:
        for indicator in dimension["indicators"]:
            for part in indicator["source"].split("；"):
                seed, separator, quote = part.partition(": ")
                assert re.fullmatch(r"\d{3}_[0-9a-f]{16}\.txt", seed) and separator, indicator["code"]
                text = (SEEDS / seed).read_text(encoding="utf-8")
                missing += [(indicator["code"], piece) for piece in quote.split("……") if piece not in text]

    assert missing == []


def test_load_standards_second_run_changes_nothing(db):
    first = io.StringIO()
    call_command("load_standards", stdout=first)
    ids = sorted(Standard.objects.values_list("pk", flat=True))
    events = AuditEvent.objects.count()

    second = io.StringIO()
    call_command("load_standards", stdout=second)

    assert sorted(Standard.objects.values_list("pk", flat=True)) == ids
    assert len(ids) == 3
    assert AuditEvent.objects.count() == events
    assert first.getvalue().count("loaded and published") == 3
    assert second.getvalue().splitlines() == [
        "city_model.json: city_model v1 already exists, skipped",
        "close_knit.json: close_knit v1 already exists, skipped",
        "district_model.json: district_model v1 already exists, skipped",
    ]


def test_load_standards_invalid_file_names_every_problem_and_saves_nothing(db, tmp_path):
    data = json.loads((FIXTURES / "close_knit.json").read_text(encoding="utf-8"))
    data["dimensions"][1]["indicators"][0]["threshold"] = "10%"
    data["dimensions"][0]["indicators"][0]["max_score"] = 7
    (tmp_path / "bad.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")

    with pytest.raises(Exception) as refusal:
        call_command("load_standards", directory=tmp_path, stdout=io.StringIO())

    assert "bad.json is not a valid standard" in str(refusal.value)
    assert "B › B1 › threshold" in str(refusal.value)
    assert "total_score" in str(refusal.value)
    assert Standard.objects.count() == 0
