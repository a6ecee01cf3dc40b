"""The three people's pages (and the office's): 我的申报, 评审任务, 审批队列, 申报列表, an application's dossier,
and the notifications behind the bell. `WorkflowsConfig.ready` puts it first in `certification.views.site.site`'s viewsets.
"""

from django.urls import path
from django.utils.translation import gettext_lazy as _
from viewflow.urls import Application

from certification.views import notifications

from . import handover_views, reviews, work


class WorkApplication(Application):
    title = _("My work")
    icon = "work"
    app_name = "work"
    base_template_name = "certification/base_page.html"
    menu_template_name = "workflows/work/menu.html"

    index_path = path("", work.WorkIndexView.as_view(), name="index")
    mine_path = path("mine/", work.MyApplicationsView.as_view(), name="mine")
    reviews_path = path("reviews/", work.ReviewsView.as_view(), name="reviews")
    approvals_path = path("approvals/", work.ApprovalQueueView.as_view(), name="approvals")
    office_path = path("office/", work.OfficeView.as_view(), name="office")
    fire_timers_path = path("office/fire-timers/", work.FireTimersView.as_view(), name="fire_timers")
    end_publicity_path = path(
        "office/applications/<int:pk>/end-publicity/", work.EndPublicityForDemoView.as_view(), name="end_publicity"
    )
    application_list_path = path("applications/", work.ApplicationListView.as_view(), name="application_list")
    application_detail_path = path(
        "applications/<int:pk>/", work.ApplicationDetailView.as_view(), name="application_detail"
    )
    withdraw_path = path(
        "applications/<int:pk>/withdraw/", work.WithdrawApplicationView.as_view(), name="application_withdraw"
    )
    yearly_reviews_path = path("yearly-reviews/", reviews.YearlyReviewListView.as_view(), name="yearly_reviews")
    yearly_reviews_start_path = path(
        "yearly-reviews/start/", reviews.StartYearlyReviewsView.as_view(), name="yearly_reviews_start"
    )
    yearly_review_detail_path = path(
        "yearly-reviews/<int:pk>/", reviews.YearlyReviewDetailView.as_view(), name="yearly_review_detail"
    )
    yearly_review_submit_path = path(
        "yearly-reviews/<int:pk>/submit/", reviews.SubmitReviewView.as_view(), name="yearly_review_submit"
    )
    yearly_review_panel_path = path(
        "yearly-reviews/<int:pk>/panel/", reviews.AssignReviewPanelView.as_view(), name="yearly_review_panel"
    )
    yearly_review_opinion_path = path(
        "yearly-reviews/<int:pk>/opinion/", reviews.GiveOpinionView.as_view(), name="yearly_review_opinion"
    )
    yearly_review_conclude_path = path(
        "yearly-reviews/<int:pk>/conclude/", reviews.ConcludeReviewView.as_view(), name="yearly_review_conclude"
    )
    yearly_review_decide_path = path(
        "yearly-reviews/<int:pk>/decide/", reviews.DecideReviewView.as_view(), name="yearly_review_decide"
    )
    yearly_review_objection_path = path(
        "yearly-reviews/<int:pk>/objection/", reviews.RaiseReviewObjectionView.as_view(), name="yearly_review_objection"
    )
    yearly_review_resolve_path = path(
        "yearly-reviews/<int:pk>/objection/resolve/",
        reviews.ResolveReviewObjectionView.as_view(),
        name="yearly_review_resolve",
    )
    rectification_answer_path = path(
        "rectification/items/<int:pk>/answer/", reviews.AnswerItemView.as_view(), name="rectification_answer"
    )
    rectification_verify_path = path(
        "rectification/items/<int:pk>/verify/", reviews.VerifyItemView.as_view(), name="rectification_verify"
    )
    rectification_return_path = path(
        "rectification/items/<int:pk>/return/", reviews.ReturnItemView.as_view(), name="rectification_return"
    )
    notification_list_path = path("notifications/", notifications.NotificationListView.as_view(), name="notifications")
    notification_open_path = path(
        "notifications/<int:pk>/open/", notifications.OpenNotificationView.as_view(), name="notification_open"
    )
    notification_read_path = path(
        "notifications/<int:pk>/read/", notifications.MarkReadView.as_view(), name="notification_read"
    )
    notification_read_all_path = path(
        "notifications/read-all/", notifications.MarkAllReadView.as_view(), name="notifications_read_all"
    )

    task_transfer_path = path(
        "tasks/<int:task_pk>/transfer/", handover_views.TaskHandoverView.as_view(kind="transfer"), name="task_transfer"
    )
    task_delegate_path = path(
        "tasks/<int:task_pk>/delegate/", handover_views.TaskHandoverView.as_view(kind="delegate"), name="task_delegate"
    )
    task_cosign_path = path(
        "tasks/<int:task_pk>/cosign/", handover_views.TaskHandoverView.as_view(kind="cosign"), name="task_cosign"
    )
    cosignatures_path = path("cosignatures/", handover_views.CoSignaturesView.as_view(), name="cosignatures")
    cosignature_sign_path = path(
        "cosignatures/<int:pk>/sign/", handover_views.SignView.as_view(), name="cosignature_sign"
    )
    absences_path = path("absences/", handover_views.AbsencesView.as_view(), name="absences")
    absence_cancel_path = path(
        "absences/<int:pk>/cancel/", handover_views.AbsenceActionView.as_view(action="cancel"), name="absence_cancel"
    )
    absence_hand_over_path = path(
        "absences/<int:pk>/hand-over/",
        handover_views.AbsenceActionView.as_view(action="hand_over"),
        name="absence_hand_over",
    )
    bulk_panel_path = path("office/bulk-panel/", handover_views.BulkPanelView.as_view(), name="bulk_panel")
    bulk_export_path = path("office/export/", work.BulkExportView.as_view(), name="bulk_export")

    def has_view_permission(self, user, obj=None):
        # Viewflow's site middleware answers a bare 403 when this is False, before the view runs; every view here
        # requires sign-in itself, so an anonymous visitor is let through to be redirected to the login page.
        return True

    def get_context_data(self, request):
        return {"work_menu": work.menu_for(request)}
