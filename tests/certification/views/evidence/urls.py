"""Addresses the evidence page tests share."""

from django.urls import reverse


def download_url(evidence_file, name="evidence_download"):
    return reverse(name, args=[evidence_file.application_id, evidence_file.pk])
