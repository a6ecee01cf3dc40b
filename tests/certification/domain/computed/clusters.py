"""Clusters, applications and results the computed-metric tests share."""

from certification.domain.computed import compute_indicators
from certification.models import ClusterMembership
from tests.factories.datasets import computed_standard, data_application, data_cluster, school

LEAD = ClusterMembership.Role.LEAD
MEMBER = ClusterMembership.Role.MEMBER


def make_cluster(*, kindergarten=False, weak=False, junior=True):
    schools = [("甲校", ["nine_year"] if junior else ["primary"], LEAD), ("乙校", ["primary"], MEMBER)]
    schools.append(("丙校", ["primary"], MEMBER, weak))
    if kindergarten:
        schools.append(("丁园", ["kindergarten"], MEMBER))
    return data_cluster(*schools)


def result_of(application):
    (result,) = compute_indicators(application).values()
    return result


def make_application(cluster, *spec):
    return data_application(cluster, computed_standard(*spec))


def course(
    cluster, name, semester, *, provider="甲校", schools=("乙校", "丙校"), students=50, hq=False, grade_students=None
):
    return {
        "course": name,
        "provider": school(cluster, provider),
        "semester": semester,
        "year": int(semester[:4]),
        "participant_ids": [school(cluster, provider).pk, *(school(cluster, s).pk for s in schools)],
        "students": students,
        "high_quality": hq,
        "grade_students": grade_students,
    }
