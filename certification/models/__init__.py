from .api_token import ApiToken
from .application import Application
from .audit import AuditAnchor, AuditChainHead, AuditEvent
from .calendar import CalendarDay
from .cluster import Cluster, ClusterMembership, CommitteeMember, TierChange
from .dataset import (
    AcademicResult,
    DatasetImport,
    EligibleTeachers,
    EnrolmentResult,
    RotationRecord,
    SatisfactionSurvey,
    SchoolStats,
    SharedCourse,
)
from .evidence import EvidenceFile
from .export import ExportJob
from .handover import Absence, CoSignature, TaskHandover
from .notification import Notification
from .people import ROLE_APPLICATION_PATH, ROLE_SCOPE, Role, RoleGrant, User, grant_scope_field, scope_object_id
from .plan import PlanTarget
from .rectification import RectificationItem, RectificationList
from .region import Region
from .reminder import SentReminder
from .review import ApplicationStage, Certificate, CorrectionRequest, EvaluatorAssignment, Objection
from .school import School, Stage
from .scoring import IndicatorResult, Score, ScoreSheet
from .standard import (
    Comparator,
    Dimension,
    DueStep,
    EvidenceRequirement,
    EvidenceStage,
    Indicator,
    Standard,
    StandardLocked,
)
from .tier import Tier
from .yearly_review import ReviewAssignment, ReviewEvidence, ReviewObjection, YearlyReview
