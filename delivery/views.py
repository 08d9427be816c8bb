"""Delivery pages."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render


@login_required
def email_status(request):
    return render(request, "console/section.html", {"title": "Email status"})
