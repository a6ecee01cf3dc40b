"""The evaluator's score sheet as a form: one row of inputs per indicator, grouped by dimension.

The form only collects input; every rule (range, comments, N/A, overrides) is checked by
`certification.domain.scoring.save_scores` / `submit_sheet`, whose per-indicator errors are shown on the rows.
The sheet page renders in a constant number of queries whatever the number of indicators or evidence files.
"""

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django import forms
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from certification.domain.computed import metric_notes
from certification.domain.scoring import ScoreErrors, save_scores, submit_sheet
from certification.metrics import describe_rule
from certification.models import Indicator, ScoreSheet
from certification.models.evidence import EvidenceFile

# URL names of pages other areas own (evidence: application pk, file pk; computed figures: application pk, with
# an #indicator-<code> anchor on the rows); a link appears only where the page exists.
EVIDENCE_PREVIEW_URL = "evidence_preview"
EVIDENCE_DOWNLOAD_URL = "evidence_download"
COMPUTED_ROWS_URL = "application_computed"


def _optional_url(name, *args):
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


@dataclass
class EvidenceLink:
    file: EvidenceFile
    preview_url: str
    download_url: str


@dataclass
class SheetRow:
    indicator: Indicator
    score: object
    value: forms.BoundField
    not_applicable: forms.BoundField | None
    comment: forms.BoundField
    override_reason: forms.BoundField | None
    evidence: list = field(default_factory=list)
    rows_url: str = ""
    threshold: str = ""
    note: str = ""
    errors: list = field(default_factory=list)

    @property
    def is_computed(self):
        return self.indicator.method == Indicator.Method.COMPUTED


def threshold_text(indicator):
    """The threshold as people read it, worded as on the computed page ("≥ 10%", "介于 10%–20%")."""
    if indicator.method != Indicator.Method.COMPUTED:
        return ""
    return describe_rule(indicator)


class ScoreSheetForm(forms.Form):
    """Inputs for every indicator of `sheet`. Read-only (every field disabled) once the sheet is submitted."""

    def __init__(self, sheet, data=None, **kwargs):
        super().__init__(data=data, **kwargs)
        self.sheet = sheet
        self.scores = list(
            sheet.scores.select_related("indicator__dimension").order_by(
                "indicator__dimension__order", "indicator__order", "indicator__code"
            )
        )
        self.domain_errors = {}
        frozen = sheet.status != ScoreSheet.Status.DRAFT
        for score in self.scores:
            indicator = score.indicator
            pk = indicator.pk
            self.fields[f"value_{pk}"] = forms.DecimalField(
                label=_("Score"),
                required=False,
                min_value=0,
                max_value=indicator.max_score,
                max_digits=6,
                decimal_places=2,
                initial=score.value,
                disabled=frozen,
                widget=forms.NumberInput(
                    attrs={
                        "step": "0.01",
                        "min": "0",
                        "max": str(indicator.max_score),
                        "aria-label": _("Score of %(indicator)s") % {"indicator": indicator.code},
                    }
                ),
            )
            if indicator.na_allowed:
                self.fields[f"na_{pk}"] = forms.BooleanField(
                    label=_("N/A"), required=False, initial=score.not_applicable, disabled=frozen
                )
            self.fields[f"comment_{pk}"] = forms.CharField(
                label=_("Comment"),
                required=False,
                initial=score.comment,
                disabled=frozen,
                widget=forms.Textarea(
                    attrs={"rows": 2, "aria-label": _("Comment on %(indicator)s") % {"indicator": indicator.code}}
                ),
            )
            if indicator.method == Indicator.Method.COMPUTED:
                self.fields[f"reason_{pk}"] = forms.CharField(
                    label=_("Override reason"),
                    required=False,
                    initial=score.override_reason,
                    disabled=frozen,
                    widget=forms.Textarea(
                        attrs={
                            "rows": 2,
                            "aria-label": _("Override reason for %(indicator)s") % {"indicator": indicator.code},
                        }
                    ),
                )

    def _evidence(self):
        application_id = self.sheet.assignment.application_id
        files = (
            EvidenceFile.objects.current()
            .filter(application_id=application_id)
            .select_related("requirement")
            .order_by("requirement__indicator_id", "requirement__code", "-version")
        )
        by_indicator = {}
        for evidence in files:
            ids = (application_id, evidence.pk)
            preview = _optional_url(EVIDENCE_PREVIEW_URL, *ids) if evidence.previewable else ""
            by_indicator.setdefault(evidence.requirement.indicator_id, []).append(
                EvidenceLink(evidence, preview, _optional_url(EVIDENCE_DOWNLOAD_URL, *ids))
            )
        return by_indicator

    def dimensions(self):
        """[(dimension, [SheetRow, ...]), ...] in the standard's order."""
        evidence = self._evidence()
        computed_url = _optional_url(COMPUTED_ROWS_URL, self.sheet.assignment.application_id)
        notes = metric_notes(self.sheet.assignment.application.cluster)
        grouped = []
        for score in self.scores:
            indicator = score.indicator
            pk = indicator.pk
            row = SheetRow(
                indicator=indicator,
                score=score,
                value=self[f"value_{pk}"],
                not_applicable=self[f"na_{pk}"] if f"na_{pk}" in self.fields else None,
                comment=self[f"comment_{pk}"],
                override_reason=self[f"reason_{pk}"] if f"reason_{pk}" in self.fields else None,
                evidence=evidence.get(pk, []),
                rows_url=(
                    f"{computed_url}#indicator-{indicator.code}"
                    if computed_url and indicator.method == Indicator.Method.COMPUTED
                    else ""
                ),
                threshold=threshold_text(indicator),
                note=notes.get(indicator.metric, "") if indicator.method == Indicator.Method.COMPUTED else "",
                errors=self.domain_errors.get(pk, []),
            )
            if not grouped or grouped[-1][0] != indicator.dimension:
                grouped.append((indicator.dimension, []))
            grouped[-1][1].append(row)
        return grouped

    def running_total(self):
        """The sum of the scores as the sheet shows them (the input being corrected, else the saved values),
        leaving out indicators marked N/A; the page's script keeps it up to date while the evaluator types."""
        total = Decimal(0)
        for score in self.scores:
            pk = score.indicator_id
            if f"na_{pk}" in self.fields and self[f"na_{pk}"].value() in (True, "on", "true", "True"):
                continue
            try:
                total += Decimal(str(self[f"value_{pk}"].value() or 0))
            except InvalidOperation:
                continue
        return total.normalize() if total else Decimal(0)

    def entries(self):
        """The cleaned input as `save_scores` entries."""
        data = self.cleaned_data
        return {
            score.indicator_id: {
                "value": data.get(f"value_{score.indicator_id}"),
                "not_applicable": data.get(f"na_{score.indicator_id}", False),
                "comment": data.get(f"comment_{score.indicator_id}", ""),
                "override_reason": data.get(f"reason_{score.indicator_id}", ""),
            }
            for score in self.scores
        }

    def _call(self, action):
        if not self.is_valid():
            return False
        try:
            action()
        except ScoreErrors as error:
            self.domain_errors = error.errors
            self.add_error(None, error.message)
            return False
        return True

    def save_draft(self, by):
        """Save the input as a draft. True on success; False with the errors on the form (nothing saved)."""
        return self._call(lambda: save_scores(self.sheet, self.entries(), by=by))

    def submit(self, by):
        """Save the input, then submit the sheet (see `submit_sheet`). True on success; False with the errors.

        Other refusals (the data changed since the sheet was filled, a frozen sheet) raise DomainError as usual.
        """

        def action():
            save_scores(self.sheet, self.entries(), by=by)
            submit_sheet(self.sheet, by=by)

        return self._call(action)
