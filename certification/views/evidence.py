"""Evidence pages: the list of one stage, upload, withdraw, download and an inline preview.

Thin views: load the application through `get_application_for` (404 when out of scope, anonymous included),
validate a form, call one function of `certification.domain.evidence`, redirect. Files are served only here,
never as static or media URLs.
"""

from collections import defaultdict

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from certification.domain import evidence as domain
from certification.errors import InvalidInput
from certification.forms.evidence import EvidenceUploadForm, EvidenceWithdrawForm
from certification.models import EvidenceFile, EvidenceStage
from certification.permissions import get_application_for
from certification.uploads import PREVIEWABLE_CONTENT_TYPES, EvidenceUploadLimitHandler, max_upload_bytes
from certification.views.downloads import content_disposition
from certification.views.site import draw_in_site

# The preview is embedded by the scoresheet (same origin). Nothing in the response may run or load anything else.
# Images are also sandboxed; a PDF is not, because browsers' built-in PDF viewers refuse to run in a sandbox.
PREVIEW_CSP = (
    "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; object-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
)


def _stage_or_404(stage):
    if stage not in EvidenceStage.values:
        raise Http404(_("No such stage."))
    return EvidenceStage(stage)


def _requirement_or_404(application, requirement_pk):
    requirement = domain.requirements_of(application).filter(pk=requirement_pk).first()
    if requirement is None:
        raise Http404(_("No such evidence requirement."))
    return requirement


def _file_or_404(user, application_pk, file_pk):
    application = get_application_for(user, application_pk)
    evidence_file = (
        EvidenceFile.objects.for_application(application).select_related("requirement").filter(pk=file_pk).first()
    )
    if evidence_file is None:
        raise Http404(_("No such file."))
    evidence_file.application = application
    return evidence_file


def stage_url(application, stage, requirement=None):
    url = reverse("evidence_list", args=[application.pk, stage])
    return f"{url}#requirement-{requirement.pk}" if requirement is not None else url


def _reusable_for(requirement, reusable):
    """The files a requirement may attach, those filed under the same item before (same requirement code, e.g. the
    charter of the last tier's application) first, so the one a lead most likely wants is the one preselected."""
    files = [f for f in reusable if f.requirement_id != requirement.pk]
    return sorted(files, key=lambda f: f.requirement.code != requirement.code)  # stable: newest first otherwise


def _render_stage(request, application, stage, *, upload_form=None, withdraw_form=None, status=200):
    """The stage page. A refused form is shown beside its requirement or file, with status 400."""
    requirements = list(domain.requirements_of(application, stage))
    files = defaultdict(list)
    for evidence_file in (
        EvidenceFile.objects.for_application(application)
        .for_stage(stage)
        .with_people()
        .order_by("requirement_id", "-version")
    ):
        files[evidence_file.requirement_id].append(evidence_file)
    missing = {requirement.pk for requirement in domain.missing_requirements(application, stage)}
    window = domain.upload_window(application)
    may_manage = domain.is_cluster_lead(request.user, application)
    reusable = list(domain.reusable_files(application)) if may_manage else []
    groups = []
    for requirement in requirements:
        open_now = may_manage and window.allows(requirement)
        if upload_form is not None and upload_form.requirement_pk == requirement.pk:
            form = upload_form
        else:
            form = EvidenceUploadForm(requirement_pk=requirement.pk) if open_now else None
        groups.append(
            {
                "requirement": requirement,
                "files": files[requirement.pk],
                "missing": requirement.pk in missing,
                "may_upload": open_now,
                "upload_form": form,
                "reusable": _reusable_for(requirement, reusable) if open_now else [],
            }
        )
    context = {
        "application": application,
        "stage": stage,
        "stages": [
            {"value": value, "label": label, "url": stage_url(application, value), "active": value == stage}
            for value, label in EvidenceStage.choices
        ],
        "groups": groups,
        "may_manage": may_manage,
        "withdraw_form": withdraw_form,
        "max_upload_bytes": max_upload_bytes(),
    }
    draw_in_site(request)
    return render(request, "certification/evidence/stage.html", context, status=status)


@login_required
@require_GET
def evidence_list(request, application_pk, stage):
    application = get_application_for(request.user, application_pk)
    return _render_stage(request, application, _stage_or_404(stage))


@csrf_exempt
@login_required
@require_POST
def evidence_upload(request, application_pk, requirement_pk):
    # Refusals that need no file come first, so a request that will be refused anyway is never spooled to disk.
    # Then the size limit goes in before the body is read; the CSRF check (which reads it) runs just after.
    application = get_application_for(request.user, application_pk)
    requirement = _requirement_or_404(application, requirement_pk)
    domain.check_may_manage(request.user, application)
    domain.check_can_upload(application, requirement)
    limit = EvidenceUploadLimitHandler(request, max_bytes=max_upload_bytes())
    request.upload_handlers.insert(0, limit)
    return _evidence_upload(request, application, requirement, limit)


@csrf_protect
def _evidence_upload(request, application, requirement, limit):
    data, files = request.POST, request.FILES  # reads the body (unless the CSRF check already has), through `limit`
    refusal = limit.refusal().message if limit.too_large else None
    form = EvidenceUploadForm(data, files, requirement_pk=requirement.pk, refusal=refusal)
    if form.is_valid():
        try:
            evidence_file = domain.upload_evidence(application, requirement, form.cleaned_data["file"], by=request.user)
        except InvalidInput as refused:
            form.add_error("file", refused.message)
        else:
            messages.success(
                request,
                _("%(name)s was saved as version %(version)s of “%(requirement)s”.")
                % {
                    "name": evidence_file.original_name,
                    "version": evidence_file.version,
                    "requirement": requirement.title,
                },
            )
            return redirect(stage_url(application, requirement.stage, requirement))
    return _render_stage(request, application, requirement.stage, upload_form=form, status=400)


@login_required
@require_POST
def evidence_withdraw(request, application_pk, file_pk):
    evidence_file = _file_or_404(request.user, application_pk, file_pk)
    application = evidence_file.application
    form = EvidenceWithdrawForm(request.POST, prefix=f"withdraw-{evidence_file.pk}")
    if form.is_valid():
        domain.withdraw_evidence(evidence_file, by=request.user, reason=form.cleaned_data["reason"])
        messages.success(
            request,
            _("Version %(version)s of %(name)s was withdrawn; it stays in the history.")
            % {"version": evidence_file.version, "name": evidence_file.original_name},
        )
        return redirect(stage_url(application, evidence_file.requirement.stage, evidence_file.requirement))
    form.file_pk = evidence_file.pk
    return _render_stage(request, application, evidence_file.requirement.stage, withdraw_form=form, status=400)


def _file_response(evidence_file, *, attachment):
    try:
        handle = evidence_file.open()
    except FileNotFoundError:
        raise Http404(_("The stored file is missing. Tell the administrator.")) from None
    response = FileResponse(handle, content_type=evidence_file.content_type)
    response["Content-Disposition"] = content_disposition(evidence_file.original_name, attachment=attachment)
    response["X-Content-Type-Options"] = "nosniff"
    patch_cache_control(response, private=True, no_store=True)
    return response


@require_GET
def evidence_download(request, application_pk, file_pk):
    """The stored bytes as an attachment, with the detected type. Out of scope or anonymous: 404."""
    return _file_response(_file_or_404(request.user, application_pk, file_pk), attachment=True)


@require_GET
@xframe_options_sameorigin
def evidence_preview(request, application_pk, file_pk):
    """PDF and images inline, for the scoresheet's preview pane. Other types, out of scope or anonymous: 404."""
    evidence_file = _file_or_404(request.user, application_pk, file_pk)
    if evidence_file.content_type not in PREVIEWABLE_CONTENT_TYPES:
        raise Http404(_("This file cannot be previewed; download it instead."))
    response = _file_response(evidence_file, attachment=False)
    csp = PREVIEW_CSP if evidence_file.content_type == "application/pdf" else f"{PREVIEW_CSP}; sandbox"
    response["Content-Security-Policy"] = csp
    return response


@login_required
@require_POST
def evidence_reuse(request, application_pk, requirement_pk):
    """Attach a file accepted before (this application's, or a certified one's of the cluster) to a requirement."""
    application = get_application_for(request.user, application_pk)
    requirement = _requirement_or_404(application, requirement_pk)
    raw = request.POST.get("source", "")
    source = EvidenceFile.objects.filter(pk=raw).first() if raw.isdigit() else None
    if source is None:
        raise Http404
    evidence_file = domain.reuse_evidence(application, requirement, source, by=request.user)
    messages.success(
        request,
        _("%(name)s was saved as version %(version)s of “%(requirement)s”.")
        % {"name": evidence_file.original_name, "version": evidence_file.version, "requirement": requirement.title},
    )
    return redirect(stage_url(application, requirement.stage, requirement))
