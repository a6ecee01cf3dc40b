"""Forms of the certification tasks. They collect input only; every rule is in certification.domain's step modules."""

from django import forms
from django.utils.translation import gettext_lazy as _

from certification.models import Cluster, Indicator, Objection, Role, RoleGrant, Tier, User
from certification.models.tier import CERTIFIABLE


def clusters_led_by(user):
    led = RoleGrant.objects.active().filter(user=user, role=Role.LEAD).values("cluster")
    return Cluster.objects.filter(pk__in=led).order_by("name")


class OpenApplicationForm(forms.Form):
    cluster = forms.ModelChoiceField(label=_("Cluster"), queryset=Cluster.objects.none())
    target_tier = forms.ChoiceField(
        label=_("Target tier"), choices=[(tier.value, tier.label) for tier in Tier if tier in CERTIFIABLE]
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cluster"].queryset = clusters_led_by(user)


class ConfirmForm(forms.Form):
    """A task done with one click, with an optional note."""

    comment = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class FormalReviewForm(forms.Form):
    PASS = "pass"
    RETURN = "return"

    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[(PASS, _("Complete: pass the formal review")), (RETURN, _("Return indicators for correction"))],
        widget=forms.RadioSelect,
    )
    indicators = forms.ModelMultipleChoiceField(
        label=_("Indicators to correct"),
        queryset=Indicator.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    comment = forms.CharField(label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    deadline = forms.DateField(
        label=_("Correction deadline"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, application, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["indicators"].queryset = application.standard.indicators().order_by(
            "dimension__order", "order", "code"
        )


class CorrectionForm(forms.Form):
    response = forms.CharField(label=_("What was corrected"), widget=forms.Textarea(attrs={"rows": 3}))


class EvaluatorCheckboxes(forms.CheckboxSelectMultiple):
    """Checkboxes where an evaluator refused for a conflict of interest is shown, with the reason, but disabled."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.refused = set()

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex=subindex, attrs=attrs)
        if getattr(value, "value", value) in self.refused:
            option["attrs"]["disabled"] = True
        return option


class EvaluatorChoiceField(forms.ModelMultipleChoiceField):
    widget = EvaluatorCheckboxes

    def __init__(self, *args, conflicts=None, **kwargs):
        self.conflicts = conflicts or {}
        super().__init__(*args, **kwargs)

    def label_from_instance(self, user):
        reason = self.conflicts.get(user.pk)
        label = f"{user}（{user.organisation}）" if user.organisation else str(user)
        return f"{label} — {reason}" if reason else label


class AssignEvaluatorsForm(forms.Form):
    evaluators = EvaluatorChoiceField(label=_("Evaluators (at least three)"), queryset=User.objects.none())
    panel_lead = forms.ModelChoiceField(label=_("Panel lead"), queryset=User.objects.none())

    def __init__(self, *args, candidates, **kwargs):
        """`candidates`: [(user, conflict reason or None)] from certification.domain.panel.eligible_evaluators."""
        super().__init__(*args, **kwargs)
        queryset = User.objects.filter(pk__in=[user.pk for user, _reason in candidates]).order_by("pk")
        self.fields["evaluators"].queryset = queryset
        conflicts = {user.pk: reason for user, reason in candidates if reason}
        self.fields["evaluators"].conflicts = conflicts
        # A refused evaluator stays in the queryset, so a forged post reaches the domain and gets its reason back.
        self.fields["evaluators"].widget.refused = set(conflicts)
        self.fields["panel_lead"].queryset = queryset.exclude(pk__in=list(conflicts))


class ReplaceEvaluatorForm(forms.Form):
    evaluator = forms.ModelChoiceField(label=_("Replacement evaluator"), queryset=User.objects.none())

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["evaluator"].queryset = User.objects.filter(
            pk__in=[user.pk for user, reason in candidates if not reason]
        ).order_by("pk")


class WithdrawForm(forms.Form):
    reason = forms.CharField(label=_("Why is the application withdrawn?"), widget=forms.Textarea(attrs={"rows": 3}))


class RecuseForm(forms.Form):
    reason = forms.CharField(label=_("Reason for recusal"), widget=forms.Textarea(attrs={"rows": 2}))


class ReconcileForm(forms.Form):
    result = forms.IntegerField(widget=forms.HiddenInput)
    value = forms.DecimalField(label=_("Reconciled score"), max_digits=6, decimal_places=2, min_value=0)
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))


class DecisionForm(forms.Form):
    APPROVE = "approve"
    SEND_BACK = "send_back"

    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[(APPROVE, _("Approve")), (SEND_BACK, _("Send back one step"))],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Comment (the reason, when sending back)"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class ObjectionForm(forms.Form):
    text = forms.CharField(label=_("Objection"), widget=forms.Textarea(attrs={"rows": 4}))


class ResolveObjectionForm(forms.Form):
    objection = forms.IntegerField(widget=forms.HiddenInput)
    outcome = forms.ChoiceField(label=_("Outcome"), choices=Objection.Outcome.choices, widget=forms.RadioSelect)
    resolution = forms.CharField(label=_("Resolution"), widget=forms.Textarea(attrs={"rows": 2}))
