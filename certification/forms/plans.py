"""The district office's form for one plan target."""

from django import forms
from django.utils.translation import gettext_lazy as _

from certification.models import PlanTarget


class PlanTargetForm(forms.ModelForm):
    class Meta:
        model = PlanTarget
        fields = ["year", "measure", "tier", "low", "high", "seed", "quote"]
        widgets = {"quote": forms.Textarea(attrs={"rows": 2})}
        help_texts = {
            "low": _("Share: the percentage to exceed. Number: the lower end of the range. Years: the fewest."),
            "high": _("Number: the upper end of the range. Years: the most years after founding."),
            "seed": _("The policy document, e.g. its file name or title."),
            "quote": _("The sentence of the policy document the target comes from, word for word."),
        }
