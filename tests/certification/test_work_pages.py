import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from certification.models import Notification
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.certification.work_urls")]


def count_queries(client, url):
    """Queries one GET of `url` runs, measured after a warm-up request (caches such as content types filled)."""
    client.get(url)
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return len(context.captured_queries)


@pytest.fixture
def reader(client):
    user = UserFactory()
    client.force_login(user)
    return user


def _notification(user, subject, **fields):
    return Notification.objects.create(recipient=user, subject=subject, **fields)


def test_notifications_page_lists_only_own(client, reader):
    _notification(reader, "形式审查已通过")
    _notification(UserFactory(), "别人的通知：东孚一学区评审结果")

    response = client.get(reverse("work:notifications"))

    content = response.content.decode()
    assert response.status_code == 200
    assert "形式审查已通过" in content
    assert "别人的通知" not in content


def test_bell_shows_unread_count(client, reader):
    _notification(reader, "一")
    _notification(reader, "二")
    read = _notification(reader, "三")
    Notification.objects.filter(pk=read.pk).update(read=read.created)

    response = client.get(reverse("work:notifications"))

    assert 'data-unread="2"' in response.content.decode()


def test_notifications_mark_read_own(client, reader):
    notification = _notification(reader, "一")

    response = client.post(reverse("work:notification_read", args=[notification.pk]))

    notification.refresh_from_db()
    assert response.status_code == 302
    assert notification.read is not None


def test_notifications_mark_read_of_another_is_404_and_unchanged(client, reader):
    other = _notification(UserFactory(), "别人的通知")

    response = client.post(reverse("work:notification_read", args=[other.pk]))

    other.refresh_from_db()
    assert response.status_code == 404
    assert other.read is None
    assert "别人的通知" not in response.content.decode()


def test_notifications_mark_all_read_leaves_others_alone(client, reader):
    _notification(reader, "一")
    _notification(reader, "二")
    other = _notification(UserFactory(), "别人的通知")

    client.post(reverse("work:notifications_read_all"))

    assert Notification.objects.filter(recipient=reader, read__isnull=True).count() == 0
    other.refresh_from_db()
    assert other.read is None


def test_notification_open_marks_read_and_follows_local_link(client, reader):
    notification = _notification(reader, "一", url="/work/applications/")

    response = client.get(reverse("work:notification_open", args=[notification.pk]))

    notification.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == "/work/applications/"
    assert notification.read is not None


def test_notification_open_refuses_foreign_link(client, reader):
    notification = _notification(reader, "一", url="https://evil.example/phish")

    response = client.get(reverse("work:notification_open", args=[notification.pk]))

    assert response["Location"] == reverse("work:notifications")


def test_notifications_page_query_count_constant(client, reader, django_assert_num_queries):
    _notification(reader, "第1条")
    url = reverse("work:notifications")
    one = count_queries(client, url)
    for number in range(2, 31):
        _notification(reader, f"第{number}条")

    with django_assert_num_queries(one):
        response = client.get(url)

    assert response.content.decode().count("/open/") == 30
