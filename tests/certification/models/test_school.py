import pytest
from django.core.exceptions import ValidationError

from certification.models import School
from tests.factories import DistrictFactory


@pytest.mark.parametrize(
    ("kind", "stages", "valid"),
    [
        (School.Kind.SCHOOL, ["primary"], True),
        (School.Kind.SCHOOL, [], False),
        (School.Kind.COMMUNITY, [], True),
        (School.Kind.SCHOOL, ["college"], False),
    ],
)
def test_school_full_clean_stages(db, kind, stages, valid):
    school = School(name="测试学校", district=DistrictFactory(), kind=kind, stages=stages)

    if valid:
        school.full_clean()
    else:
        with pytest.raises(ValidationError) as error:
            school.full_clean()
        assert "stages" in error.value.message_dict


def test_school_teaches_nine_year_counts_as_primary_and_junior():
    school = School(name="九年一贯制学校", stages=["nine_year"])

    assert (school.teaches("primary"), school.teaches("junior"), school.teaches("senior")) == (True, True, False)
