"""Checks every page a person sees must pass, for any browser test: call `check_page(page)` after a page loads.

- `check_visible_text`: the page is Chinese. No English word outside `ALLOWED_WORDS` (standards, file types, the
  product name, units) and no raw code (snake_case, dotted codes, dict/repr text, True/False/None) in what a person
  reads: rendered text, including SVG labels and <option>s, and the title/placeholder/aria-label/alt attributes.
  What a person typed or uploaded (file names, serials) is marked `translate="no"` in the template and not read.
- `check_accessibility`: axe-core (vendored from its npm package under tests/browser/vendor/, never from a CDN)
  finds no critical and no serious violation.
- `check_phone_width`: at 390 px wide the page does not scroll sideways; a table may scroll inside its card.

Each check raises AssertionError naming the page and what it found, so a failing walk says where to look.
"""

import re
from pathlib import Path

PHONE_WIDTH = 390
AXE_JS = Path(__file__).parent / "vendor" / "axe.min.js"

# Words a Chinese page may show in Latin letters. Kept short on purpose: a new entry needs a reason.
ALLOWED_WORDS = frozenset(
    {
        # The interface systems connect to: Chinese government software writes "API 接口", "API 令牌" too.
        "api",
        # File types and units a person picks or reads on an upload form.
        "xlsx",
        "xls",
        "pdf",
        "word",
        "powerpoint",
        "pptx",
        "mp4",
        "png",
        "jpg",
        "jpeg",
        "docx",
        "doc",
        "zip",
        "csv",
        "excel",
        "kb",
        "mb",
        "gb",
        # A4 is the paper of the certificate print view.
        "a4",
        # XQRZ (学区认证) opens every certificate serial: the product's name in a code.
        "xqrz",
        # BPMN is the name of the standard the flow chart downloads in.
        "bpmn",
        # The language switcher names each language in its own script.
        "english",
    }
)

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_RAW_CODE = [
    (re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b"), "snake_case code"),
    (re.compile(r"\b[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*\b"), "dotted code"),
    (re.compile(r"\{\s*'|'\s*:\s*'|<[A-Za-z]+:? [^>]*>"), "dict or repr text"),
    (re.compile(r"\b(?:True|False|None)\b"), "Python literal"),
]

# Text a person reads: rendered text nodes (SVG included, <option>s of a shown <select>), and the attributes a
# screen or pointer shows. Icon ligatures (material-icons) and aria-hidden parts are not read.
_VISIBLE_TEXT_JS = """
() => {
  const out = [];
  const skip = (el) => el.closest('script, style, noscript, template, .material-icons, [aria-hidden="true"], [translate="no"]');
  const shown = (el) => {
    if (el.closest('option, optgroup')) { const select = el.closest('select'); return !select || select.checkVisibility(); }
    return el.checkVisibility({visibilityProperty: true});
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.textContent.trim();
    const parent = node.parentElement;
    if (!text || !parent || skip(parent) || !shown(parent)) continue;
    out.push(text);
  }
  for (const el of document.querySelectorAll('[title], [placeholder], [aria-label], img[alt]')) {
    if (skip(el)) continue;
    for (const name of ['title', 'placeholder', 'aria-label', 'alt']) {
      const value = el.getAttribute(name);
      if (value && value.trim()) out.push(value.trim());
    }
  }
  const submit = document.querySelectorAll('input[type=submit], input[type=button]');
  for (const el of submit) { if (el.value && shown(el)) out.push(el.value); }
  out.push(document.title);
  return out;
}
"""


def visible_text_problems(texts):
    """The English words and raw codes in `texts` (a list of strings a person reads), as readable findings."""
    problems = []
    for text in texts:
        for pattern, kind in _RAW_CODE:
            for match in pattern.finditer(text):
                problems.append(f"{kind} {match.group(0)!r} in {text[:80]!r}")
        for match in _WORD.finditer(text):
            word = match.group(0)
            # One Latin letter with digits is an indicator code (A1, B2); it is the standard's own name for it.
            if re.fullmatch(r"[A-Za-z]\d*", word) or word.lower() in ALLOWED_WORDS:
                continue
            problems.append(f"English word {word!r} in {text[:80]!r}")
    return sorted(set(problems))


def check_visible_text(page):
    problems = visible_text_problems(page.evaluate(_VISIBLE_TEXT_JS))
    assert not problems, f"{page.url}: text a person reads is not Chinese:\n  " + "\n  ".join(problems)


def check_accessibility(page):
    """axe-core's WCAG 2 A/AA rules: no critical and no serious violation."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated through the devtools protocol, which the page's Content-Security-Policy (scripts from 'self'
        # only) does not govern; a <script> tag with axe inline would be refused, as it should be.
        page.evaluate(AXE_JS.read_text(encoding="utf-8"))
    result = page.evaluate(
        """async () => {
          const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}});
          return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                          nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
        }"""
    )
    bad = [v for v in result if v["impact"] in ("critical", "serious")]
    assert not bad, f"{page.url}: axe-core finds:\n  " + "\n  ".join(
        f"{v['impact']} {v['id']} ({v['help']}) at {v['nodes']}" for v in bad
    )


def check_phone_width(page):
    """At 390 px the page itself never scrolls sideways. The viewport is restored afterwards."""
    before = page.viewport_size
    page.set_viewport_size({"width": PHONE_WIDTH, "height": 844})
    try:
        page.wait_for_timeout(100)
        width = page.evaluate("() => document.scrollingElement.scrollWidth")
        wide = page.evaluate(
            """(limit) => [...document.querySelectorAll('body *')]
                 .filter(el => el.getBoundingClientRect().right > limit + 1 && el.checkVisibility())
                 .filter(el => !el.parentElement || el.parentElement.getBoundingClientRect().right <= limit + 1)
                 .slice(0, 5).map(el => el.tagName.toLowerCase() + (el.className && typeof el.className === 'string'
                                         ? '.' + el.className.trim().split(/\\s+/).join('.') : ''))""",
            PHONE_WIDTH,
        )
    finally:
        if before:
            page.set_viewport_size(before)
    assert width <= PHONE_WIDTH, f"{page.url}: {width} px wide at a {PHONE_WIDTH} px phone; too wide: {wide}"


def check_page(page):
    """All three checks; the hook every browser walk calls on each page it visits."""
    check_visible_text(page)
    check_accessibility(page)
    check_phone_width(page)
