from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from certification.domain import standards as standards_domain
from certification.errors import DomainError
from certification.models import (
    Application,
    AuditEvent,
    CalendarDay,
    Cluster,
    ClusterMembership,
    CommitteeMember,
    Dimension,
    EvidenceRequirement,
    Indicator,
    Notification,
    Region,
    RoleGrant,
    School,
    Standard,
    TierChange,
    User,
)
from certification.views.standards import standard_download_response


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "parent")
    list_filter = ("kind",)


@admin.register(School)
class SchoolAdmin(admin.ModelAdmin):
    list_display = ("name", "district", "get_stages_display", "is_relatively_weak", "student_count", "teacher_count")
    list_filter = ("district", "is_relatively_weak")
    search_fields = ("name",)


class MembershipInline(admin.TabularInline):
    model = ClusterMembership
    extra = 0
    autocomplete_fields = ("school",)


class CommitteeInline(admin.TabularInline):
    model = CommitteeMember
    extra = 0


class TierChangeInline(admin.TabularInline):
    """Tier history is written by domain functions only; the admin shows it."""

    model = TierChange
    extra = 0
    can_delete = False
    readonly_fields = ("from_tier", "to_tier", "reason", "note", "effective", "recorded", "recorded_by", "application")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Cluster)
class ClusterAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "group_model", "district", "tier_display")
    list_filter = ("kind", "district")
    search_fields = ("name",)
    # The tier is derived from the certificates and the tier history (certification.domain.tiers), never edited.
    readonly_fields = ("tier_display", "since_display")
    inlines = [MembershipInline, CommitteeInline, TierChangeInline]

    def get_queryset(self, request):
        return super().get_queryset(request).with_tier()

    @admin.display(description=_("current tier"), ordering="tier_rank")
    def tier_display(self, obj):
        return obj.get_current_tier_display()

    @admin.display(description=_("tier held since"))
    def since_display(self, obj):
        return obj.tier_since


class LockedWhenPublished:
    """Admin mix-in: everything under a published or retired standard is read-only."""

    def _standard_of(self, obj):
        raise NotImplementedError

    def has_change_permission(self, request, obj=None):
        if obj is not None and self._standard_of(obj).is_locked:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and self._standard_of(obj).is_locked:
            return False
        return super().has_delete_permission(request, obj)


class DimensionInline(admin.TabularInline):
    model = Dimension
    extra = 0
    show_change_link = True

    def has_change_permission(self, request, obj=None):
        return obj is None or not obj.is_locked

    has_delete_permission = has_change_permission

    def has_add_permission(self, request, obj=None):
        return obj is None or not obj.is_locked


@admin.register(Standard)
class StandardAdmin(LockedWhenPublished, admin.ModelAdmin):
    list_display = ("title", "tier", "version", "status", "total_score", "pass_score", "published")
    list_filter = ("tier", "status")
    readonly_fields = ("status", "published", "derived_from")
    inlines = [DimensionInline]
    actions = ["make_new_version", "publish_drafts", "download_xlsx"]
    # Adds a link to the Excel import page above the list.
    change_list_template = "certification/standards/admin_change_list.html"

    def _standard_of(self, obj):
        return obj

    def get_deleted_objects(self, objs, request):
        """The bulk action "delete selected" must stop at a published standard.

        Locked objects are listed as protected, which refuses the whole deletion with an explanation (the model
        would refuse it anyway, but with an error page).
        """
        deleted, counts, perms_needed, protected = admin.ModelAdmin.get_deleted_objects(self, objs, request)
        locked = [
            _("%(object)s: published standards cannot be deleted") % {"object": obj}
            for obj in objs
            if self._standard_of(obj).is_locked
        ]
        if locked:
            # The locked rows also lack delete permission; say why rather than "you may not delete these types".
            return deleted, counts, set(), [*protected, *locked]
        return deleted, counts, perms_needed, protected

    @admin.action(description=_("Download as Excel (.xlsx)"))
    def download_xlsx(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, _("Select exactly one standard to download."), level=messages.WARNING)
            return None
        return standard_download_response(queryset.get())

    @admin.action(description=_("Copy into a new draft version"))
    def make_new_version(self, request, queryset):
        for standard in queryset:
            try:
                draft = standards_domain.new_version(standard, by=request.user)
            except DomainError as error:
                self.message_user(request, f"{standard}: {error}", level=messages.ERROR)
            else:
                self.message_user(request, _("Draft %(draft)s created.") % {"draft": draft})

    @admin.action(description=_("Publish the selected drafts"))
    def publish_drafts(self, request, queryset):
        for standard in queryset:
            try:
                standards_domain.publish(standard, by=request.user)
            except DomainError as error:
                self.message_user(request, f"{standard}: {error}", level=messages.ERROR)
            else:
                self.message_user(request, _("%(standard)s published.") % {"standard": standard})


class EvidenceRequirementInline(admin.TabularInline):
    model = EvidenceRequirement
    extra = 0

    def has_change_permission(self, request, obj=None):
        return obj is None or not obj.dimension.standard.is_locked

    has_delete_permission = has_change_permission
    has_add_permission = has_change_permission


@admin.register(Dimension)
class DimensionAdmin(LockedWhenPublished, admin.ModelAdmin):
    list_display = ("code", "title", "standard")
    list_filter = ("standard",)
    get_deleted_objects = StandardAdmin.get_deleted_objects

    def _standard_of(self, obj):
        return obj.standard

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # New dimensions go into drafts only: a published standard is frozen.
        if db_field.name == "standard":
            kwargs["queryset"] = Standard.objects.filter(status=Standard.Status.DRAFT)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Indicator)
class IndicatorAdmin(LockedWhenPublished, admin.ModelAdmin):
    list_display = ("code", "title", "dimension", "method", "metric", "comparator", "threshold", "max_score", "veto")
    list_filter = ("dimension__standard", "method", "veto")
    search_fields = ("code", "title")
    inlines = [EvidenceRequirementInline]
    get_deleted_objects = StandardAdmin.get_deleted_objects

    def _standard_of(self, obj):
        return obj.dimension.standard

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # New indicators go into drafts only: a published standard is frozen.
        if db_field.name == "dimension":
            kwargs["queryset"] = Dimension.objects.filter(standard__status=Standard.Status.DRAFT).select_related(
                "standard"
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("Organisation"), {"fields": ("display_name", "organisation", "employer_school", "employer_office")}),
    )
    list_display = ("username", "display_name", "organisation", "is_active")


@admin.register(RoleGrant)
class RoleGrantAdmin(admin.ModelAdmin):
    """Read-only: grants change through `certification.domain.roles` and the `sync_roles` command."""

    list_display = ("user", "role", "cluster", "region", "granted", "revoked")
    list_filter = ("role",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Application)
class ApplicationAdmin(admin.ModelAdmin):
    list_display = ("cluster", "target_tier", "standard", "year", "status", "total_score", "passed")
    list_filter = ("status", "target_tier")
    readonly_fields = [f.name for f in Application._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("at", "actor", "action", "application", "from_state", "to_state")
    list_filter = ("action",)
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("recipient", "subject", "created", "read", "emailed", "email_attempts", "email_failed")
    list_filter = (("email_failed", admin.EmptyFieldListFilter), ("emailed", admin.EmptyFieldListFilter))
    readonly_fields = ("email_attempts", "email_error", "email_failed")


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    """The holiday calendar, read only: it changes on the administrators' page (holiday_calendar), through the
    domain's one function for it, which also imports a year from Excel."""

    list_display = ("date", "kind", "name")
    list_filter = ("kind",)
    date_hierarchy = "date"
    search_fields = ("name",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
