"""The site's message toast (project/templates/viewflow/includes/snackbar.html), found by the ladder walk (issue 8).

Viewflow's toast was aria-hidden, so a screen reader never read it and axe-core refused it once a message carried a
link; and viewflow's task messages carry one ("任务 #7 已认领", the #7 a link), which the toast showed as a button
named by a raw number.
"""

import re

from django.contrib.messages import SUCCESS
from django.contrib.messages.storage.base import Message
from django.template.loader import render_to_string
from django.utils.html import format_html


def _toast(*messages):
    html = render_to_string("viewflow/includes/snackbar.html", {"messages": [Message(SUCCESS, m) for m in messages]})
    return re.search(r"<vf-snackbar([^>]*)>(.*?)</vf-snackbar>", html, re.S).groups()


def test_the_toast_is_a_polite_status_a_screen_reader_reads():
    attributes, _text = _toast("已保存")

    assert 'role="status"' in attributes and 'aria-live="polite"' in attributes
    assert "aria-hidden" not in attributes


def test_the_toast_shows_the_last_message_as_plain_text_without_its_link():
    link = format_html('<a href="{}">#{}</a>', "/workflow/1/formal_review/7/", 7)

    _attributes, text = _toast("第一条", format_html("任务 {} 已认领。", link))

    assert text.strip() == "任务 #7 已认领。"
