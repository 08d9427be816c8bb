"""Run axe-core (installed from npm, see package.json) in a Playwright page."""

from __future__ import annotations

from pathlib import Path

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"


def violations(page, rules: list[str] | None = None) -> list[str]:
    """The page's accessibility violations, one line each ("rule: target, ...")."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # From the console's own static files: the Content-Security-Policy refuses inline
        # script, and the test should see the page as its users do.
        page.add_script_tag(url="/static/vendor/axe-core/axe.min.js")
    options = {"runOnly": {"type": "rule", "values": rules}} if rules else {}
    found = page.evaluate(
        "options => axe.run(document, options).then(r => r.violations.map(v => "
        "v.id + ': ' + v.nodes.map(n => n.target.join(' ')).slice(0, 5).join(', ')))",
        options,
    )
    return found
