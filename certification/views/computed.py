"""The computed-indicators page of an application: each figure with its threshold, pass/fail/N/A and the rows behind it,
and the application's data sets with their import status, template and upload form."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.formats import localize
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from certification.datasets import DATASETS
from certification.domain import computed_cache
from certification.domain.datasets import dataset_requirements, datasets_of
from certification.domain.evidence import is_cluster_lead, upload_window
from certification.forms.evidence import DatasetUploadForm
from certification.models import DatasetImport
from certification.models.dataset import SatisfactionSurvey, TeacherStage, data_school_year
from certification.permissions import get_application_for

ROWS_SHOWN = 200
TIER_HISTORY_COLUMNS = (("from_tier", "原等级"), ("to_tier", "新等级"), ("effective", "生效日期"))
# The codes a cell may hold and their labels (lazy: read in the language of the request). Made once: building them
# from the enums for each of a page's 24,000-odd cells (3,000 rows) was most of its time, on every view.
CELL_LABELS = dict(TeacherStage.choices) | dict(SatisfactionSurvey.Group.choices)


def _cell(value):
    if isinstance(value, tuple):  # one teacher's rotations that differ in this column (domain.computed.rotation)
        return "；".join(str(localize(_cell(part))) for part in value)
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, str) and value in CELL_LABELS:
        return str(CELL_LABELS[value])
    return "" if value is None else value


def _row_tables(rows):
    """The rows behind a figure (`computed.Rows`), grouped by data set, as (title, headers, [(source, cells)], more)
    tables: the first ROWS_SHOWN of each, the only ones made into dicts."""
    tables = []
    for code, shown, count in rows.tables(ROWS_SHOWN):
        dataset = DATASETS.get(code)
        if dataset is not None:
            columns = [(column.key, column.header) for column in dataset.columns]
            title = dataset.title
        else:
            columns, title = list(TIER_HISTORY_COLUMNS), shown[0].get("source", "")
        tables.append(
            {
                "title": title,
                "headers": [header for _key, header in columns],
                "rows": [(row.get("row", ""), [_cell(row.get(key)) for key, _header in columns]) for row in shown],
                "more": count - len(shown),
            }
        )
    return tables


def _dataset_states(application, user, upload_form=None):
    """One entry per data set the standard asks for: the version the application pins, the latest import, and
    whether the user may upload."""
    imports = list(DatasetImport.objects.for_application(application).select_related("created_by").order_by("-id"))
    pinned = {item.dataset: item for item in application.data_versions.select_related("created_by")}
    window = upload_window(application)
    lead = is_cluster_lead(user, application)
    states = []
    for dataset in datasets_of(application):
        own = [item for item in imports if item.dataset == dataset.code]
        may_upload = lead and any(window.allows(r) for r in dataset_requirements(application, dataset.code))
        refused = upload_form is not None and upload_form.requirement_pk == dataset.code
        # A refused upload is shown with its reason, even to someone who may not upload at all.
        form = upload_form if refused else (DatasetUploadForm(requirement_pk=dataset.code) if may_upload else None)
        states.append(
            {
                "dataset": dataset,
                "current": pinned.get(dataset.code),
                "latest": own[0] if own else None,
                "may_upload": may_upload,
                "form": form,
            }
        )
    return states


def _indicators_section(results):
    """The indicators section (_indicators.html) of `results`: the same for everyone who may read the page."""
    indicators = [
        {
            "result": result,
            "tables": _row_tables(result.behind),
            "state": "na" if result.not_applicable else {True: "pass", False: "fail", None: "unknown"}[result.passed],
        }
        for result in results.values()
    ]
    return render_to_string("certification/computed/_indicators.html", {"indicators": indicators})


def render_page(request, application, *, upload_form=None, status=200):
    """The page; a refused upload form is shown beside its data set with status 400."""
    # Rendered once per data version and language (`computed_cache.rendered_indicators`).
    section, version = computed_cache.rendered_indicators(application, _indicators_section)
    context = {
        "application": application,
        "indicators_section": mark_safe(section),
        "datasets": _dataset_states(application, request.user, upload_form),
        "data_version": version,
        "school_year": data_school_year(application),
    }
    return render(request, "certification/computed/page.html", context, status=status)


@login_required
@require_GET
def application_computed(request, pk):
    application = get_application_for(request.user, pk)
    return render_page(request, application)
