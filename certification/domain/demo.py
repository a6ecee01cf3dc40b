"""Loading the demo: the real regions, clusters and schools the seeds name, and one demo user per role.

The data lives in `fixtures/demo/*.json` (format in fixtures/demo/README.md). Loading is idempotent: every row is
found by its natural key (names within their parent), so a second run changes nothing. Demo users get the demo
password only here, and only when `settings.DEMO_MODE` is on.
"""

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from certification.errors import IllegalTransition, InvalidInput
from certification.models import Cluster, ClusterMembership, CommitteeMember, Region, School, TierChange, User

from . import audit
from .roles import grant_role

DEMO_DIR = Path(settings.BASE_DIR) / "fixtures" / "demo"
DEMO_PASSWORD = "xuequ-demo-2026"
USERS_FILE = "users.json"


@dataclass
class DemoSummary:
    """What a load created; all zeros on a second run."""

    created: dict = field(default_factory=dict)

    def count(self, kind, created):
        if created:
            self.created[kind] = self.created.get(kind, 0) + 1

    @property
    def total_created(self):
        return sum(self.created.values())


@dataclass(frozen=True)
class DemoLogin:
    username: str
    display_name: str
    role: str
    scope: str


def _read(path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise InvalidInput(
            _("Cannot read the demo file %(file)s: %(error)s") % {"file": path.name, "error": error}
        ) from None


# The district most demo users work in comes first, so that lists ordered by district open with it.
FILE_ORDER = ["xuhui.json", "haicang.json", "haibowan.json", "minhang.json"]


def region_files(directory=DEMO_DIR):
    paths = [path for path in Path(directory).glob("*.json") if path.name != USERS_FILE]
    rank = {name: number for number, name in enumerate(FILE_ORDER)}
    return sorted(paths, key=lambda path: (rank.get(path.name, len(rank)), path.name))


def _city(name, summary):
    city, created = Region.objects.get_or_create(name=name, kind=Region.Kind.CITY, parent=None)
    summary.count("regions", created)
    return city


def _district(city_name, district_name, summary):
    city = _city(city_name, summary)
    district, created = Region.objects.get_or_create(name=district_name, kind=Region.Kind.DISTRICT, parent=city)
    summary.count("regions", created)
    return district


def _load_region_file(data, summary, *, by):
    district = _district(data["region"]["city"], data["region"]["district"], summary)
    schools = {}
    for spec in data.get("schools", []):
        school, created = School.objects.get_or_create(
            district=district,
            name=spec["name"],
            defaults={
                "kind": spec.get("kind", School.Kind.SCHOOL),
                "stages": spec["stages"],
                "is_relatively_weak": spec["weak"],
                "student_count": spec["students"],
                "teacher_count": spec["teachers"],
            },
        )
        summary.count("schools", created)
        schools[school.name] = school
    for spec in data.get("clusters", []):
        _load_cluster(district, spec, schools, summary, by=by)


def _tier_rows(spec):
    """[(tier, since), ...] the cluster held when the platform started: `history`, else `tier` and `tier_since`."""
    if spec.get("history"):
        return [(row["tier"], date.fromisoformat(row["since"])) for row in spec["history"]]
    tier = spec.get("tier", "none")
    if tier == "none":
        return []
    return [(tier, date.fromisoformat(spec["tier_since"]) if spec.get("tier_since") else date.today())]


def _load_cluster(district, spec, schools, summary, *, by):
    cluster, created = Cluster.objects.get_or_create(
        district=district,
        name=spec["name"],
        defaults={
            "kind": spec["kind"],
            "group_model": spec.get("group_model", ""),
            "founded_on": date.fromisoformat(spec["founded"]) if spec.get("founded") else None,
        },
    )
    summary.count("clusters", created)
    held = "none"
    for tier, since in _tier_rows(spec) if created else []:
        # The tiers a cluster already held when the platform started are the first lines of its history; the
        # tier is derived from them (certification.domain.tiers), never stored on the cluster.
        TierChange.objects.create(
            cluster=cluster,
            from_tier=held,
            to_tier=tier,
            reason=TierChange.Reason.INITIAL,
            note=_("Recorded from the demo data (illustrative)."),
            effective=since,
            recorded_by=by,
        )
        audit.record("cluster.tier_recorded", actor=by, obj=cluster, from_state=held, to_state=tier)
        summary.count("tier_changes", True)
        held = tier
    for member in spec.get("members", []):
        school = schools.get(member["school"])
        if school is None:
            raise InvalidInput(
                _("The demo cluster %(cluster)s names a school that is not in its file: %(school)s")
                % {"cluster": cluster.name, "school": member["school"]}
            )
        _membership, created = ClusterMembership.objects.get_or_create(
            cluster=cluster, school=school, defaults={"role": member["role"]}
        )
        summary.count("memberships", created)
    for seat in spec.get("committee", []):
        _seat, created = CommitteeMember.objects.get_or_create(
            cluster=cluster, role=seat["role"], affiliation=seat["affiliation"]
        )
        summary.count("committee_seats", created)


def _lookup_school(ref):
    return School.objects.get(district__name=ref["district"], name=ref["name"])


def _lookup_region(ref):
    if "district" in ref:
        return Region.objects.get(kind=Region.Kind.DISTRICT, parent__name=ref["city"], name=ref["district"])
    return Region.objects.get(kind=Region.Kind.CITY, name=ref["city"])


def _load_users(data, summary, *, password):
    logins = []
    for spec in data["users"]:
        user, created = User.objects.get_or_create(
            username=spec["username"],
            defaults={
                "display_name": spec["display_name"],
                "organisation": spec.get("organisation", ""),
                "employer_school": _lookup_school(spec["employer_school"]) if "employer_school" in spec else None,
                "employer_office": _lookup_region(spec["employer_office"]) if "employer_office" in spec else None,
                "is_staff": spec.get("superuser", False),
                "is_superuser": spec.get("superuser", False),
            },
        )
        if created:
            # Set once: a second run must not change anything, and a tester may have changed their password.
            user.set_password(password)
            user.save(update_fields=["password"])
        summary.count("users", created)
        cluster = region = None
        if "cluster" in spec:
            cluster = Cluster.objects.get(district__name=spec["cluster"]["district"], name=spec["cluster"]["name"])
        if "region" in spec:
            region = _lookup_region(spec["region"])
        grant_role(user, spec["role"], cluster=cluster, region=region)
        logins.append(
            DemoLogin(
                username=user.username,
                display_name=user.display_name,
                role=spec["role"],
                scope=f"{cluster.district} {cluster}" if cluster else str(region or ""),
            )
        )
    return logins


def load_demo_data(directory=DEMO_DIR, *, by=None):
    """Create the demo regions, schools, clusters, memberships, committee seats and demo users, idempotently.

    Refuses (IllegalTransition) unless settings.DEMO_MODE is on: the demo password must never exist elsewhere.
    Side effects: one audit row per demo role granted (through `grant_role`) and per initial tier recorded.
    Returns (DemoSummary, [DemoLogin]).
    """
    if not settings.DEMO_MODE:
        raise IllegalTransition(_("Demo data can only be loaded when DEMO_MODE is on; it is off here."))
    directory = Path(directory)
    summary = DemoSummary()
    with transaction.atomic():
        for path in region_files(directory):
            _load_region_file(_read(path), summary, by=by)
        logins = _load_users(_read(directory / USERS_FILE), summary, password=DEMO_PASSWORD)
    return summary, logins
