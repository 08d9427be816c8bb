"""Statistics pages. Placeholders until the rollups land."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render


def _section(title: str):
    @login_required
    def view(request):
        return render(request, "console/section.html", {"title": title})

    return view


queue_status = _section("Real-time queue status")
open_click = _section("Open/Click")
spam_reports = _section("Spam report")
bounced = _section("Bounced")
unsubscriptions = _section("Unsubscription")
