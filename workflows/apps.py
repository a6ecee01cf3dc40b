from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = _("Workflows")

    def ready(self):
        # The work pages and the flow's pages join the site before the URLconf is loaded.
        from certification.views.site import site

        from .labels import label_viewflow_columns
        from .viewsets import CertificationFlowApp
        from .work_app import WorkApplication

        label_viewflow_columns()

        if not any(isinstance(app, WorkApplication) for app in site.viewsets):
            site.viewsets.insert(0, WorkApplication())
        if not any(isinstance(app, CertificationFlowApp) for app in site.viewsets):
            site.viewsets.append(CertificationFlowApp())
