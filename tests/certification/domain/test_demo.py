"""The demo data (fixtures/demo) and the load_demo command."""

from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.db.models import Q

from certification.domain.demo import DEMO_DIR, DEMO_PASSWORD, load_demo_data
from certification.errors import IllegalTransition
from certification.models import (
    AuditEvent,
    Cluster,
    ClusterMembership,
    CommitteeMember,
    Region,
    Role,
    RoleGrant,
    School,
    Standard,
    TierChange,
    User,
)

DEMO_MODELS = [Region, School, Cluster, ClusterMembership, CommitteeMember, TierChange, User, RoleGrant, AuditEvent]

# Every person's name printed in seed 003 (天平-湖南学区 committee) and seed 004 (海沧 guidance groups and liaison
# officers). The demo must name nobody: none of these may appear in a user, a committee seat or a demo file.
SEED_PERSON_NAMES = [
    # seed 003
    "吕东",
    "滕平",
    "张健慈",
    "周瑾",
    "傅晓",
    "何大耿",
    "周德明",
    "翁颂震",
    "钱佩红",
    "卢久红",
    "崔鹏",
    "洪雨露",
    "吴德明",
    "黄建平",
    "陈丕君",
    "方继东",
    "袁成兰",
    "刘伟",
    "娄易红",
    "蔡金萍",
    "马昕",
    # seed 004
    "柯少敏",
    "田云慧",
    "韩继财",
    "徐剑波",
    "孙民云",
    "张海霞",
    "杨泽松",
    "黄凡",
    "李韡",
    "郑国滨",
    "洪福旺",
    "周扣平",
    "沈纪文",
    "黄海生",
    "潘春辉",
    "周春生",
    "郑承辉",
    "颜秀美",
]

TIANPING_HUNAN_UNITS = {
    "位育初级中学",
    "市二初级中学",
    "位育实验学校",
    "五十四中学",
    "高安路一小",
    "建襄小学",
    "向阳小学",
    "世界小学",
    "爱菊小学",
    "一中心小学",
    "天平社区学校",
    "湖南社区学校",
}


def _counts():
    return {model.__name__: model.objects.count() for model in DEMO_MODELS}


def _members(cluster_name):
    cluster = Cluster.objects.get(name=cluster_name)
    return {m.school.name: m.role for m in cluster.memberships.select_related("school")}


@pytest.fixture
def demo(db):
    return load_demo_data()


def test_load_demo_data_twice_changes_nothing(demo):
    before = _counts()

    summary, logins = load_demo_data()

    assert summary.total_created == 0
    assert _counts() == before
    assert before["Cluster"] == 30
    assert before["School"] == 37
    assert len(logins) == 12


def test_demo_tianping_hunan_has_its_twelve_member_units(demo):
    members = _members("天平-湖南学区")

    assert set(members) == TIANPING_HUNAN_UNITS
    assert set(members.values()) == {ClusterMembership.Role.MEMBER}
    community = School.objects.filter(kind=School.Kind.COMMUNITY).values_list("name", flat=True)
    assert set(community) == {"天平社区学校", "湖南社区学校"}
    cluster = Cluster.objects.get(name="天平-湖南学区")
    assert str(cluster.district) == "上海市徐汇区"
    assert cluster.kind == Cluster.Kind.XUEQU


def test_demo_haicang_xuequ_have_the_seeds_lead_and_member_schools(demo):
    assert _members("东孚一学区") == {
        "东师理想东孚实验中学": "lead_secondary",
        "东师理想东孚实验小学": "lead_primary",
        "洪塘学校": "member",
        "凤山小学": "member",
        "东埔小学": "member",
    }
    assert _members("东孚二学区") == {
        "东瑶学校": "lead_secondary",
        "芸美小学": "lead_primary",
        "贞岱小学": "member",
        "一实小（项目名称）": "member",
        "一农小学（项目名称）": "member",
    }
    assert _members("新阳一学区") == {
        "海沧中学": "lead_secondary",
        "二实小": "lead_primary",
        "新江中心小学": "member",
        "新阳学校": "member",
    }
    # 进修附校 is the seed's 牵头中小学: it leads both stages, so it holds the general lead role.
    assert _members("新阳二学区") == {
        "进修附校": "lead",
        "芸景实小": "member",
        "霞阳小学": "member",
        "新安小学": "member",
        "龙山小学": "member",
    }
    for name in ["东孚一学区", "东孚二学区", "新阳一学区", "新阳二学区"]:
        liaisons = CommitteeMember.objects.filter(cluster__name=name, role=CommitteeMember.Role.LIAISON)
        assert list(liaisons.values_list("affiliation", flat=True)) == ["海沧区教育局挂钩干部"]


def test_demo_wuhai_groups_are_merged_groups_of_a_core_school_and_a_weak_campus(demo):
    groups = Cluster.objects.filter(district__name="海勃湾区").order_by("name")

    assert [group.name for group in groups] == ["一小教育集团", "二中教育集团", "五小教育集团"]
    for group in groups:
        assert group.kind == Cluster.Kind.GROUP
        assert group.group_model == Cluster.GroupModel.MERGED
        roles = {(m.role, m.school.is_relatively_weak) for m in group.memberships.select_related("school")}
        assert roles == {("core", False), ("member", True)}
    assert "海勃湾区五小龙游湾校区" in _members("五小教育集团")


def test_demo_minhang_has_eight_groups_and_fourteen_xuequ(demo):
    minhang = Cluster.objects.filter(district__name="闵行区")

    assert minhang.filter(kind=Cluster.Kind.GROUP).count() == 8
    assert minhang.filter(kind=Cluster.Kind.XUEQU).count() == 14
    close_knit = minhang.at_tier("close_knit")
    assert close_knit.count() == 13
    assert TierChange.objects.filter(cluster__in=close_knit, reason=TierChange.Reason.INITIAL).count() == 13


def test_demo_names_no_person_printed_in_the_seeds(demo):
    user_text = " ".join(
        " ".join(str(value) for value in row)
        for row in User.objects.values_list(
            "username", "first_name", "last_name", "display_name", "organisation", "email"
        )
    )
    seat_text = " ".join(CommitteeMember.objects.values_list("affiliation", flat=True))
    file_text = " ".join(path.read_text(encoding="utf-8") for path in sorted(DEMO_DIR.glob("*")))

    for name in SEED_PERSON_NAMES:
        assert name not in user_text, name
        assert name not in seat_text, name
        assert name not in file_text, name
    assert "（演示）" in User.objects.get(username="lead_tianping").display_name


def test_demo_users_hold_one_role_each_in_its_scope(demo):
    grants = {grant.user.username: grant for grant in RoleGrant.objects.active().select_related("user")}

    assert {grant.role for grant in grants.values()} == set(Role.values)
    assert grants["lead_tianping"].cluster.name == "天平-湖南学区"
    assert grants["lead_dongfu1"].cluster.name == "东孚一学区"
    assert str(grants["office_xuhui"].region) == "上海市徐汇区"
    assert str(grants["leader_xuhui"].region) == "上海市徐汇区"
    assert str(grants["office_shanghai"].region) == "上海市"
    assert str(grants["leader_shanghai"].region) == "上海市"
    assert User.objects.get(username="lead_tianping").groups.filter(name=Role.LEAD).exists()


def test_demo_evaluators_include_conflicted_and_at_least_three_free_ones(demo):
    cluster = Cluster.objects.get(name="天平-湖南学区")
    evaluators = User.objects.filter(role_grants__role=Role.EVALUATOR)
    tied = Q(employer_school__in=cluster.schools.all()) | Q(employer_office=cluster.district)

    assert evaluators.count() == 5
    assert sorted(evaluators.filter(tied).values_list("username", flat=True)) == [
        "evaluator_district_office",
        "evaluator_member_school",
    ]
    assert evaluators.exclude(tied).count() == 3
    assert User.objects.get(username="evaluator_member_school").employer_school.name == "位育初级中学"


def test_demo_password_signs_in_every_demo_user(demo):
    _summary, logins = demo

    for login in logins:
        assert authenticate(username=login.username, password=DEMO_PASSWORD) is not None, login.username
    assert authenticate(username="lead_tianping", password="wrong-password") is None


def test_load_demo_data_refuses_when_demo_mode_is_off(db, settings):
    settings.DEMO_MODE = False

    with pytest.raises(IllegalTransition) as refusal:
        load_demo_data()

    assert "DEMO_MODE" in refusal.value.message
    assert User.objects.count() == 0
    assert Cluster.objects.count() == 0


def test_load_demo_command_refuses_when_demo_mode_is_off(db, settings):
    settings.DEMO_MODE = False

    with pytest.raises(CommandError) as refusal:
        call_command("load_demo", stdout=StringIO())

    assert "load_demo refuses to run: DEMO_MODE is off" in str(refusal.value)
    assert User.objects.count() == 0
    assert Standard.objects.count() == 0


def test_load_demo_command_loads_standards_and_prints_the_logins(db):
    out = StringIO()

    call_command("load_demo", stdout=out)
    call_command("load_demo", stdout=out)

    text = out.getvalue()
    assert Standard.objects.published().count() == 3
    assert "lead_tianping" in text
    assert "上海市徐汇区 天平-湖南学区" in text
    assert "evaluator_member_school" in text
    assert text.count(DEMO_PASSWORD) == 24
    assert "http://127.0.0.1:8000/" in text
    assert "Demo data already loaded; nothing changed." in text
