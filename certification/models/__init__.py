from .application import Application
from .audit import AuditChainHead, AuditEvent
from .cluster import Cluster, ClusterMembership, CommitteeMember, TierChange
from .notification import Notification
from .people import ROLE_SCOPE, Role, RoleGrant, User
from .region import Region
from .school import School, Stage
from .standard import Comparator, Dimension, EvidenceRequirement, EvidenceStage, Indicator, Standard, StandardLocked
from .tier import Tier

__all__ = [
    "ROLE_SCOPE",
    "Application",
    "AuditChainHead",
    "AuditEvent",
    "Cluster",
    "ClusterMembership",
    "CommitteeMember",
    "Comparator",
    "Dimension",
    "EvidenceRequirement",
    "EvidenceStage",
    "Indicator",
    "Notification",
    "Region",
    "Role",
    "RoleGrant",
    "School",
    "Stage",
    "Standard",
    "StandardLocked",
    "Tier",
    "TierChange",
    "User",
]
