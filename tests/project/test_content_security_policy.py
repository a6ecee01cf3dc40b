"""The style hashes the Content-Security-Policy allows (settings.STYLE_HASHES) are those of the inline styles the
libraries we show still write: recomputed from viewflow's templates and Turbo's script, so an upgrade that changes
one fails here, not only in the browser walk (tests/browser/test_content_security_policy.py)."""

import base64
import hashlib
import re
from pathlib import Path

import viewflow
from django.conf import settings
from django.urls import reverse
from viewflow.workflow import chart

from workflows.flows import CertificationFlow

VIEWFLOW = Path(viewflow.__file__).parent


def sha256(text):
    return base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def style_src():
    return settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["style-src"]


def test_csp_allows_no_inline_style_but_the_hashed_ones():
    assert style_src() == ["'self'", "'unsafe-hashes'", *(f"'sha256-{d}'" for d in settings.STYLE_HASHES.values())]
    assert "'unsafe-inline'" not in style_src()


def test_csp_style_hashes_match_viewflows_sign_out_button():
    page = (VIEWFLOW / "templates" / "viewflow" / "base_page.html").read_text(encoding="utf-8")
    attributes = re.findall(r'style="([^"]*)"', page[page.index("logout") :])[:2]

    assert attributes == ["width:100%;border:none;background-color:inherit", "text-align:left"]
    for value in attributes:
        assert settings.STYLE_HASHES[value] == sha256(value)


def test_csp_style_hash_matches_turbos_progress_bar():
    script = (VIEWFLOW / "static" / "viewflow" / "js" / "turbo.es2017-umd.js").read_text(encoding="utf-8")
    template = re.search(r"static get defaultCSS\(\) \{\s*return unindent `(.*?)`;", script, re.S).group(1)
    duration = int(re.search(r"ProgressBar\.animationDuration = (\d+);", script).group(1))
    css = template.replace("${ProgressBar.animationDuration}", str(duration)).replace(
        "${ProgressBar.animationDuration / 2}", str(duration // 2)
    )
    # Turbo's `unindent`: drop the first line, then the common indentation of the others.
    lines = css.split("\n")[1:]
    indent = min(len(line) - len(line.lstrip()) for line in lines if line.strip())
    text = "\n".join(line[indent:] for line in lines)

    assert settings.STYLE_HASHES["turbo progress bar"] == sha256(text)


def test_csp_style_hash_matches_the_process_chart(db):
    reverse("workflow:inbox")
    svg = chart.grid_to_svg(chart.calc_layout_data(CertificationFlow))
    (style,) = re.findall(r"<style[^>]*>(.*?)</style>", svg, re.S)
    # Inline SVG in HTML: the CDATA markers are not part of the style's text.
    text = style.replace("<![CDATA[", "", 1).replace("]]>", "", 1)

    assert settings.STYLE_HASHES["viewflow process chart"] == sha256(text)


def test_our_templates_write_no_inline_style_but_the_hashed_chart():
    base = Path(settings.BASE_DIR)
    found = [
        f"{path.relative_to(base)}: {match}"
        for app in ("certification", "workflows", "project")
        for path in sorted((base / app / "templates").rglob("*"))
        if path.suffix in {".html", ".svg"}
        for match in re.findall(r"<style\b|\sstyle=", path.read_text(encoding="utf-8"))
    ]

    assert found == ["project/templates/viewflow/workflow/graph.svg: <style"]
