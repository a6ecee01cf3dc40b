"""A world for running the certification flow: a cluster with a member school, one person per role, evaluators
(one of them tied to the cluster), and a published standard whose evidence is spread over the three stages."""

from dataclasses import dataclass, field
from decimal import Decimal

from certification.domain.evidence import upload_evidence
from certification.domain.roles import grant_role
from certification.models import EvidenceRequirement, Role, Tier
from tests.factories import CityFactory, ClusterFactory, DistrictFactory, MembershipFactory, UserFactory
from tests.factories import published_standard as _published_standard
from tests.factories.evidence import pdf_bytes, upload

HELD_BEFORE = {Tier.CLOSE_KNIT: Tier.NONE, Tier.DISTRICT_MODEL: Tier.CLOSE_KNIT, Tier.CITY_MODEL: Tier.DISTRICT_MODEL}

INDICATORS = [
    {
        "code": "A1",
        "title": "章程与议事规则",
        "max_score": Decimal("4"),
        "method": "scored",
        "evidence": [{"stage": "basic", "code": "A1-charter", "title": "学区章程"}],
    },
    {
        "code": "A2",
        "title": "教师交流轮岗",
        "max_score": Decimal("6"),
        "method": "scored",
        "veto": True,
        "evidence": [
            {"stage": "process", "code": "A2-roster", "title": "交流轮岗名单"},
            {"stage": "outcome", "code": "A2-survey", "title": "满意度调查"},
        ],
    },
]


def certification_standard(tier, **fields):
    return _published_standard(tier, indicators=[dict(spec) for spec in INDICATORS], publicity_days=7, **fields)


def person(role, *, cluster=None, region=None, **fields):
    user = UserFactory(**fields)
    grant_role(user, role, cluster=cluster, region=region)
    return user


@dataclass
class World:
    tier: str
    city: object
    district: object
    cluster: object
    member_school: object
    standard: object
    lead: object
    office: object
    leader: object
    city_office: object
    city_leader: object
    evaluators: list = field(default_factory=list)
    tied_evaluator: object = None

    def people(self):
        return {
            "lead": self.lead,
            "office": self.office,
            "leader": self.leader,
            "city_office": self.city_office,
            "city_leader": self.city_leader,
        }


def build_world(tier=Tier.CLOSE_KNIT, *, evaluators=4, city=None, due_working_days=None, yearly_evaluators=0):
    """`yearly_evaluators`: the standard's panel size for the yearly review (0: the office concludes alone)."""
    city = city or CityFactory()
    district = DistrictFactory(parent=city)
    cluster = ClusterFactory(district=district, current_tier=HELD_BEFORE[Tier(tier)])
    member = MembershipFactory(cluster=cluster)
    standard = certification_standard(
        tier, due_working_days=due_working_days or {}, yearly_evaluators=yearly_evaluators
    )
    world = World(
        tier=tier,
        city=city,
        district=district,
        cluster=cluster,
        member_school=member.school,
        standard=standard,
        lead=person(Role.LEAD, cluster=cluster, display_name=f"{cluster.name}负责人"),
        office=person(Role.DISTRICT_OFFICE, region=district, display_name=f"{district.name}学区集团办"),
        leader=person(Role.DISTRICT_LEADER, region=district, display_name=f"{district.name}分管领导"),
        city_office=person(Role.CITY_OFFICE, region=city, display_name="市教委"),
        city_leader=person(Role.CITY_LEADER, region=city, display_name="市领导"),
    )
    world.evaluators = [
        person(Role.EVALUATOR, display_name=f"评估专家{n}", organisation="第三方评估机构") for n in range(evaluators)
    ]
    world.tied_evaluator = person(Role.EVALUATOR, display_name="成员校专家", employer_school=member.school)
    return world


def upload_all_evidence(application, lead, stage=None):
    """Upload one PDF for every required requirement (of `stage`) of the application's standard."""
    requirements = EvidenceRequirement.objects.filter(
        indicator__dimension__standard=application.standard, required=True
    )
    if stage is not None:
        requirements = requirements.filter(stage=stage)
    for requirement in requirements:
        upload_evidence(
            application, requirement, upload(pdf_bytes(requirement.code), f"{requirement.code}.pdf"), by=lead
        )
