"""Every kind of page works under the Content-Security-Policy: no violation, no script error."""

from __future__ import annotations

import pytest

from delivery import tracking
from sesconsole.models import Account, ApiKey
from tests.factories import AccountFactory, MembershipFactory, MessageFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Registered before any page script runs; reports what the policy blocked.
WATCH = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__violations.push(e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') +
                           ' at ' + e.sourceFile + ':' + e.lineNumber);
});
"""

CONSOLE = [
    "/",
    "/queue/",
    "/messages/",
    "/messages/send-test/",
    "/messages/id/msg-csp-1/",
    "/open-click/",
    "/spam-reports/",
    "/bounced/",
    "/unsubscriptions/",
    "/blocklist/",
    "/blocklist/invalid/",
    "/blocklist/invalid/mine/",
    "/blocklist/rejects/",
    "/blocklist/custom/",
    "/blocklist/custom/upload/",
    "/blocklist/history/",
    "/account/api-keys/",
    "/account/tc3-keys/",
    # The browsable API, for a signed-in user.
    "/api/v1/",
    "/api/v1/blocklist/history/",
    "/api/v1/blocklist/custom/",
]
ADMIN = [
    "/admin/",
    "/admin/sesconsole/account/",
    "/admin/sesconsole/account/{account}/change/",
    "/admin/auth/user/add/",
    "/admin/delivery/message/",
    "/admin/django_celery_beat/periodictask/add/",
    "/admin/axes/accessattempt/",
]


@pytest.fixture
def watched(page):
    """The page, with every CSP violation, console error and uncaught error collected."""
    problems: list[str] = []
    page.context.add_init_script(WATCH)
    page.on(
        "console",
        lambda m: (
            m.type == "error"
            and not m.text.startswith("Failed to load resource")  # reported below, with the URL
            and problems.append(f"console: {m.text}")
        ),
    )
    page.on(
        "response",
        lambda r: (
            r.status >= 400
            and not r.url.endswith("/favicon.ico")
            and problems.append(f"{r.status}: {r.url}")
        ),
    )
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))

    def visit(path: str):
        response = page.goto(path)
        assert response.status == 200, path
        policy = dict(
            (d.split()[0], d.split()[1:])
            for d in response.headers["content-security-policy"].split(";")
        )
        assert policy["script-src"] == ["'self'"]
        assert policy["style-src"] == ["'self'"]
        # DRF's own templates have a few style attributes: allowed on its pages only.
        attributes = ["'unsafe-inline'"] if path.startswith("/api/v1/") else None
        assert policy.get("style-src-attr") == attributes, path
        page.wait_for_load_state("networkidle")
        found = problems + page.evaluate("window.__violations")
        problems.clear()
        return found

    return visit


@pytest.fixture
def staff_member(db):
    account = AccountFactory(name="acme", display_name="Acme Shop")
    AccountFactory(name="globex", display_name="Globex")
    user = UserFactory(username="root", is_staff=True, is_superuser=True)
    MembershipFactory(account=account, user=user)
    MessageFactory(account=account, message_id="msg-csp-1", subject="<b>Hi</b>")
    ApiKey.issue(account, name="pipeline")
    return user


def test_console_and_admin_pages_have_no_violations(watched, login, staff_member):
    login(staff_member)
    pk = Account.objects.get(name="acme").pk
    problems = {}
    for path in CONSOLE + [p.format(account=pk) for p in ADMIN]:
        found = watched(path)
        if found:
            problems[path] = found
    assert problems == {}, "\n".join(f"{p}: {v}" for p, vs in problems.items() for v in vs)


def test_the_login_and_unsubscribe_pages_have_no_violations(watched, staff_member):
    assert watched("/login/") == []
    account = Account.objects.get(name="acme")
    token = tracking.make_token(tracking.UNSUBSCRIBE, account.pk, "msg-csp-1")
    assert watched(f"/t/u/{token}") == []


def test_swagger_ui_runs_and_offers_the_api_key_scheme(watched, page, login, staff_member):
    login(staff_member)
    assert watched("/api/docs/") == []
    page.get_by_text("SES Console API").first.wait_for()
    page.get_by_role("button", name="Authorize").first.click()
    dialog = page.locator(".auth-container").first
    dialog.wait_for()
    assert "ApiKey" in dialog.inner_text()
    assert "Bearer" in dialog.inner_text()


def test_scripted_behaviour_still_works(page, login, staff_member):
    """Handlers moved from inline attributes to static files: the account switcher and the
    confirmation before revoking a key."""
    login(staff_member)
    page.goto("/account/api-keys/")
    page.select_option("#account-switcher", label="Globex")
    page.wait_for_load_state("networkidle")
    assert "Globex" in page.locator("#account-switcher option:checked").inner_text()
    page.select_option("#account-switcher", label="Acme Shop")
    page.wait_for_load_state("networkidle")
    asked = []

    def dismiss(dialog):
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.get_by_role("button", name="Revoke").first.click()
    assert asked == ["Revoke this key? Programs using it stop working at once."]
    assert ApiKey.objects.get(name="pipeline").is_active


def test_the_periodic_task_form_explains_the_chosen_crontab(watched, page, login, staff_member):
    from django_celery_beat.models import CrontabSchedule

    crontab = CrontabSchedule.objects.create(minute="0", hour="4")
    login(staff_member)
    assert watched("/admin/django_celery_beat/periodictask/add/") == []
    assert not page.locator(".field-crontab_translation").is_visible()
    page.select_option("#id_crontab", value=str(crontab.pk))
    help_text = page.locator(".field-crontab .help").inner_text()
    assert f"Translation: {crontab.human_readable}" in help_text
