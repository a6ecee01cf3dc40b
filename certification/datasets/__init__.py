"""The structured data sets behind computed indicators (DOMAIN.md "Structured data behind computed indicators").

One module per data set declares its sheet, columns, checks and row model; `template` builds the Excel template
handed out and `reader` reads a filled one back. Writing rows is the domain's job (`certification.domain.datasets`).
"""

from . import academic_results, eligible_teachers, enrolment, rotation, satisfaction, school_stats, shared_courses

DATASETS = {
    module.DATASET.code: module.DATASET
    for module in (
        rotation,
        eligible_teachers,
        shared_courses,
        school_stats,
        academic_results,
        enrolment,
        satisfaction,
    )
}


def get_dataset(code):
    """The data set named `code`, or None."""
    return DATASETS.get(code)
