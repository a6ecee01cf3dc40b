"""Forms for uploading and withdrawing evidence. The file's checks live in `certification.uploads`, run by the domain."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from certification.uploads import FILE_TYPES, SPREADSHEET_TYPES


def _accept_attribute():
    return ",".join(extension for file_type in FILE_TYPES.values() for extension in file_type.extensions)


class EvidenceUploadForm(forms.Form):
    """One file for one requirement. `refusal` is a message decided before the form saw the file (too large)."""

    file = forms.FileField(
        label=_("File"),
        required=False,
        allow_empty_file=False,
        widget=forms.ClearableFileInput(attrs={"accept": _accept_attribute()}),
    )

    def __init__(self, *args, requirement_pk=None, refusal=None, **kwargs):
        kwargs.setdefault("auto_id", f"id_%s_{requirement_pk}")
        super().__init__(*args, **kwargs)
        self.requirement_pk = requirement_pk
        self.refusal = refusal

    def clean_file(self):
        if self.refusal:
            raise ValidationError(self.refusal)
        uploaded = self.cleaned_data.get("file")
        if not uploaded:
            raise ValidationError(_("Choose a file to upload."))
        return uploaded


class DatasetUploadForm(EvidenceUploadForm):
    """A data set's filled workbook: the file picker offers what the import reads (uploads.SPREADSHEET_TYPES)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        extensions = (extension for file_type in SPREADSHEET_TYPES.values() for extension in file_type.extensions)
        self.fields["file"].widget.attrs["accept"] = ",".join(extensions)


class EvidenceWithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for withdrawal"),
        max_length=500,
        strip=True,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. wrong year uploaded")}),
    )
