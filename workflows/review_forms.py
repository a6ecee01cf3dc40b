"""Forms of the yearly review's and the 整改 list's pages."""

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from certification.models import ReviewObjection, User, YearlyReview
from certification.models.tier import CERTIFIABLE_CHOICES, Tier, tier_rank

from .forms import EvaluatorChoiceField

EVIDENCE_SLOTS = 3
ITEM_SLOTS = 3


class StartReviewsForm(forms.Form):
    region = forms.ModelChoiceField(label=_("Region"), queryset=None, empty_label=None)
    school_year = forms.IntegerField(label=_("School year"), min_value=2000, max_value=2100)

    def __init__(self, *args, regions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = regions


class SubmitReviewForm(forms.Form):
    data_note = forms.CharField(label=_("The school year's summary"), widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for n in range(EVIDENCE_SLOTS):
            self.fields[f"title_{n}"] = forms.CharField(label=_("Evidence title"), required=False, max_length=200)
            self.fields[f"file_{n}"] = forms.FileField(label=_("Evidence file"), required=False)

    def evidence(self):
        return [
            (self.cleaned_data[f"title_{n}"], self.cleaned_data[f"file_{n}"])
            for n in range(EVIDENCE_SLOTS)
            if self.cleaned_data.get(f"file_{n}")
        ]


class ConcludeForm(forms.Form):
    conclusion = forms.ChoiceField(label=_("Conclusion"), choices=YearlyReview.Conclusion.choices)
    reason = forms.CharField(label=_("Reason"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    rectify_by = forms.DateField(label=_("Rectify by"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    to_tier = forms.ChoiceField(label=_("Downgrade to"), required=False)

    def __init__(self, *args, review, **kwargs):
        super().__init__(*args, **kwargs)
        lower = [(Tier.NONE.value, Tier.NONE.label)] + [
            choice for choice in CERTIFIABLE_CHOICES if tier_rank(choice[0]) < tier_rank(review.tier)
        ]
        self.fields["to_tier"].choices = [("", "—"), *lower]
        indicators = review.standard.indicators().order_by("dimension__order", "order")
        for n in range(ITEM_SLOTS):
            self.fields[f"item_{n}_indicator"] = forms.ModelChoiceField(
                label=_("Indicator"), queryset=indicators, required=False
            )
            self.fields[f"item_{n}_change"] = forms.CharField(label=_("What must change"), required=False)
            self.fields[f"item_{n}_deadline"] = forms.DateField(
                label=_("Item deadline"), required=False, widget=forms.DateInput(attrs={"type": "date"})
            )

    def item_rows(self):
        return [
            (self[f"item_{n}_indicator"], self[f"item_{n}_change"], self[f"item_{n}_deadline"])
            for n in range(ITEM_SLOTS)
        ]

    def items(self):
        items = []
        for n in range(ITEM_SLOTS):
            indicator = self.cleaned_data.get(f"item_{n}_indicator")
            change = (self.cleaned_data.get(f"item_{n}_change") or "").strip()
            if indicator is None and not change:
                continue
            if indicator is None or not change:
                raise forms.ValidationError(_("Every item needs its indicator and what must change."))
            items.append(
                {
                    "indicator": indicator,
                    "concerns": f"{indicator.code} {indicator.title}",
                    "required_change": change,
                    "deadline": self.cleaned_data.get(f"item_{n}_deadline"),
                }
            )
        return items


class AssignPanelForm(forms.Form):
    """The review's panel: the evaluators, each shown with the conflict that refuses them (the application panel's
    checkboxes, `workflows.forms.EvaluatorChoiceField`)."""

    evaluators = EvaluatorChoiceField(label=_("Evaluators"), queryset=User.objects.none())

    def __init__(self, *args, candidates, needed, **kwargs):
        """`candidates`: [(user, conflict reason or None)] (certification.domain.yearly_review.panel_candidates)."""
        super().__init__(*args, **kwargs)
        field = self.fields["evaluators"]
        field.label = gettext("Evaluators (at least %(count)s)") % {"count": needed}
        field.queryset = User.objects.filter(pk__in=[user.pk for user, _reason in candidates]).order_by("pk")
        field.conflicts = {user.pk: reason for user, reason in candidates if reason}
        # A refused evaluator stays in the queryset, so a forged post reaches the domain and gets its reason back.
        field.widget.refused = set(field.conflicts)


class OpinionForm(forms.Form):
    opinion = forms.ChoiceField(
        label=_("Proposed conclusion"), choices=YearlyReview.Conclusion.choices, widget=forms.RadioSelect
    )
    reason = forms.CharField(label=_("Reason for your opinion"), widget=forms.Textarea(attrs={"rows": 4}))


class DecideForm(forms.Form):
    APPROVE, REFUSE = "approve", "refuse"
    decision = forms.ChoiceField(
        label=_("Decision"), choices=[(APPROVE, _("Approve")), (REFUSE, _("Refuse, back to the office"))]
    )
    comment = forms.CharField(label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ReviewObjectionForm(forms.Form):
    text = forms.CharField(label=_("Objection"), widget=forms.Textarea(attrs={"rows": 3}))


class ResolveReviewObjectionForm(forms.Form):
    objection = forms.IntegerField(widget=forms.HiddenInput)
    outcome = forms.ChoiceField(label=_("Outcome"), choices=ReviewObjection.Outcome.choices)
    resolution = forms.CharField(label=_("Resolution"), widget=forms.Textarea(attrs={"rows": 2}))


class AnswerItemForm(forms.Form):
    response = forms.CharField(label=_("What was changed"), widget=forms.Textarea(attrs={"rows": 2}))
    evidence = forms.FileField(label=_("Evidence file"), required=False)


class ReturnItemForm(forms.Form):
    reason = forms.CharField(label=_("Why it is returned"), widget=forms.Textarea(attrs={"rows": 2}))
