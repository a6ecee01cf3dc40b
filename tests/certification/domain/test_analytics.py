"""Evaluator analytics: the ICC against Shrout & Fleiss's worked example, and per-evaluator figures by hand."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from certification.domain.aggregation import aggregate
from certification.domain.analytics import evaluator_analytics, icc_1_1, icc_2_1
from certification.models import EvaluatorAssignment, Role
from tests.factories import CityFactory, ClusterFactory, DistrictFactory, UserFactory
from tests.factories.scoring import evaluator, scored, scoring_application, scoring_standard, submitted_sheet
from tests.factories.work import person

# Shrout & Fleiss (1979), Table 2: six targets rated by four judges. Their Table 4 gives ICC(1,1) = .17 and
# ICC(2,1) = .29; the exact values of the formulas on these data are 0.16574 and 0.28976.
SHROUT_FLEISS = [
    [9, 2, 5, 8],
    [6, 1, 3, 2],
    [8, 4, 6, 8],
    [7, 1, 2, 6],
    [10, 5, 6, 9],
    [6, 2, 4, 7],
]


def test_icc_matches_the_shrout_fleiss_worked_example():
    assert round(icc_1_1(SHROUT_FLEISS), 2) == 0.17
    assert round(icc_2_1(SHROUT_FLEISS), 2) == 0.29
    assert round(icc_1_1(SHROUT_FLEISS), 5) == 0.16574
    assert round(icc_2_1(SHROUT_FLEISS), 5) == 0.28976


def test_icc_is_one_for_perfect_agreement_and_undefined_for_one_target():
    assert icc_1_1([[1, 1], [3, 3], [5, 5]]) == 1.0
    assert icc_1_1([[1, 2, 3]]) is None


@pytest.fixture
def city(db):
    return CityFactory(name="上海市")


def _score(application, people, values):
    office = UserFactory()
    for user, row in zip(people, values, strict=True):
        assignment = EvaluatorAssignment.objects.create(application=application, evaluator=user, assigned_by=office)
        submitted_sheet(assignment, dict(zip(["A1", "A2"], row, strict=True)))
    aggregate(application)


def test_evaluator_figures_and_agreement_by_hand(city):
    standard = scoring_standard([scored("A1", 10), scored("A2", 10)], tolerance="0.3")
    district = DistrictFactory(parent=city)
    e1, e2, e3, e4 = (evaluator(display_name=f"专家{n}") for n in range(1, 5))
    # Application 1: A1 scored 9/7/5 (mean 7, spread 4 > 3: a disagreement), A2 8/8/8.
    _score(
        scoring_application(standard, cluster=ClusterFactory(district=district)), [e1, e2, e3], [(9, 8), (7, 8), (5, 8)]
    )
    # Application 2: A1 9/9/9, A2 9/8/10 (mean 9, spread 2: no disagreement).
    _score(
        scoring_application(standard, cluster=ClusterFactory(district=district)),
        [e1, e2, e4],
        [(9, 9), (9, 8), (9, 10)],
    )
    # Another city's application never counts.
    elsewhere = ClusterFactory(district=DistrictFactory(parent=CityFactory(name="厦门市")))
    _score(scoring_application(standard, cluster=elsewhere), [e1, e2, e3], [(1, 1), (10, 10), (1, 1)])

    evaluators, standards = evaluator_analytics(city)

    figures = [
        (e.evaluator, e.sheets, e.scores, e.mean_deviation, e.mean_absolute_deviation, e.reconciliations)
        for e in evaluators
    ]
    assert figures == [
        # e1: deviations +2, 0, 0, 0; the highest A1 score of the disagreement.
        ("专家1", 2, 4, Decimal("0.50"), Decimal("0.50"), 1),
        # e2: 0, 0, 0, −1.
        ("专家2", 2, 4, Decimal("-0.25"), Decimal("0.25"), 0),
        # e3: −2, 0; the lowest A1 score of the disagreement.
        ("专家3", 1, 2, Decimal("-1.00"), Decimal("1.00"), 1),
        ("专家4", 1, 2, Decimal("0.50"), Decimal("0.50"), 0),
    ]
    # Four targets scored by three, divided by the maximum 10: [.9 .7 .5] [.8 .8 .8] [.9 .9 .9] [.9 .8 1.0].
    # BMS = 3 · (.125² + .025² + .075² + .075²) / 3 = .0275; WMS = (.08 + 0 + 0 + .02) / 8 = .0125;
    # ICC(1,1) = (.0275 − .0125) / (.0275 + 2 · .0125) = 2/7.
    assert [(s.targets, s.raters, round(s.icc, 6)) for s in standards] == [(4, 3, round(2 / 7, 6))]


def test_evaluator_analytics_page_is_for_the_city_office_only(city):
    office = person(Role.CITY_OFFICE, region=city)
    leader = person(Role.CITY_LEADER, region=city)
    other_city_office = person(Role.CITY_OFFICE, region=CityFactory(name="厦门市"))
    url = reverse("dashboards:evaluators", args=[city.pk])

    def status(user):
        client = Client()
        client.force_login(user)
        return client.get(url).status_code

    assert (status(office), status(leader), status(other_city_office)) == (200, 403, 403)
    assert Client().get(url).status_code == 302


def test_evaluator_analytics_reads_a_fixed_number_of_queries(city, django_assert_num_queries):
    standard = scoring_standard([scored("A1", 10), scored("A2", 10)], tolerance="0.3")
    district = DistrictFactory(parent=city)
    people = [evaluator() for _ in range(3)]
    for _ in range(3):
        _score(
            scoring_application(standard, cluster=ClusterFactory(district=district)), people, [(9, 8), (7, 8), (5, 8)]
        )

    # Scores, combined results, evaluators' names, standards' titles.
    with django_assert_num_queries(4):
        evaluators, standards = evaluator_analytics(city)

    assert [e.sheets for e in evaluators] == [3, 3, 3] and standards[0].targets == 6
