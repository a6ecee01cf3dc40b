"""Fixtures shared by the data set import tests: Chinese messages, media in a temporary folder, a cluster of three
schools and an application whose standard reads the roster twice and the academic results once."""

import pytest
from django.utils import translation

from certification.models import ClusterMembership
from tests.factories.datasets import data_application, data_cluster, dataset_standard, lead


@pytest.fixture(autouse=True)
def chinese():
    with translation.override("zh-hans"):
        yield


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


@pytest.fixture
def cluster():
    return data_cluster(
        ("天平路小学", ["primary"], ClusterMembership.Role.LEAD),
        ("湖南路小学", ["primary"]),
        ("天平中学", ["junior"]),
    )


@pytest.fixture
def application(cluster):
    # Two requirements read the roster: the workbook is kept as evidence for both.
    standard = dataset_standard("rotation", "rotation", "academic_results")
    return data_application(cluster, standard)


@pytest.fixture
def by(cluster):
    return lead(cluster)
