"""STORAGE_URL: empty keeps files under MEDIA_ROOT, s3://… selects django-storages' S3 backend, anything else
stops start-up with a message that says what to write."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from project.settings import storage_from_url


def test_storage_url_empty_is_media_root_folder():
    assert storage_from_url("") == {"BACKEND": "django.core.files.storage.FileSystemStorage"}


def test_storage_url_s3_with_endpoint_keys_and_prefix():
    url = "s3://AK%2F1:se%40cret@xqrz-media/prod/files?endpoint_url=https://oss.example.cn&region_name=cn-east-2"

    assert storage_from_url(url) == {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "endpoint_url": "https://oss.example.cn",
            "region_name": "cn-east-2",
            "access_key": "AK/1",
            "secret_key": "se@cret",
            "bucket_name": "xqrz-media",
            "location": "prod/files",
            "default_acl": None,
            "file_overwrite": False,
            "querystring_auth": True,
            "querystring_expire": 300,
        },
    }


def test_storage_url_s3_keys_from_environment_when_not_in_url():
    options = storage_from_url("s3://xqrz-media?querystring_expire=60")["OPTIONS"]

    assert ("access_key" in options, options["querystring_expire"], options["location"]) == (False, 60, "")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/srv/media", "STORAGE_URL must be empty or s3://bucket?endpoint_url=..., got '/srv/media'"),
        ("gs://bucket", "STORAGE_URL must be empty or s3://bucket?endpoint_url=..., got 'gs://bucket'"),
        ("s3:///prefix", "STORAGE_URL 's3:///prefix' names no bucket: write s3://bucket"),
        (
            "s3://b?endpoint=http://x",
            "STORAGE_URL has unknown options endpoint; known: addressing_style, endpoint_url, querystring_expire, "
            "region_name, signature_version",
        ),
        (
            "s3://b?endpoint_url=oss.example.cn",
            "STORAGE_URL endpoint_url must be an http(s):// URL, got 'oss.example.cn'",
        ),
        ("s3://b?querystring_expire=soon", "STORAGE_URL querystring_expire must be a number of seconds"),
        ("s3://b?querystring_expire=0", "STORAGE_URL querystring_expire must be at least 1 second"),
    ],
)
def test_storage_url_bad_value_refused_with_message(url, message):
    with pytest.raises(ImproperlyConfigured) as refusal:
        storage_from_url(url)

    assert str(refusal.value) == message
