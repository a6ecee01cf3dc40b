"""Forms of the public pages: an objection from anyone, and certificate verification."""

from django import forms
from django.utils.translation import gettext_lazy as _

from certification.uploads import allowed_types_text


class PublicObjectionForm(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=100)
    contact = forms.CharField(
        label=_("Telephone or e-mail"),
        max_length=100,
        help_text=_("Only the office sees it, to answer you."),
    )
    text = forms.CharField(label=_("Objection"), max_length=5000, widget=forms.Textarea(attrs={"rows": 6}))
    attachment = forms.FileField(label=_("Supporting file (optional)"), required=False)
    # The honeypot: hidden from people by the stylesheet, filled by form-filling robots.
    website = forms.CharField(label=_("Leave this field empty"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attachment"].help_text = _("Allowed types: %(types)s.") % {"types": allowed_types_text()}
        self.fields["website"].widget.attrs.update({"tabindex": "-1", "autocomplete": "off"})

    @property
    def is_robot(self):
        return bool(self.data.get("website"))


class VerifyForm(forms.Form):
    serial = forms.CharField(label=_("Serial number"), max_length=40)
    code = forms.CharField(label=_("Check code"), max_length=80)
