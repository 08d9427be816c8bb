"""Django's CommonMiddleware, with a slash redirect that keeps the request's method and body."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.middleware import common
from django.utils.http import escape_leading_slashes

# A 301 lets clients resend the request as a GET without its body, which changes nothing for
# these two. They keep Django's 301: old clients that predate 308 (RFC 7538) follow it, and
# bookmarks and caches already hold it.
_REDIRECTED_AS_GET = ("GET", "HEAD")


class CommonMiddleware(common.CommonMiddleware):
    """`APPEND_SLASH` without losing a request: a POST, PUT, PATCH, DELETE (any method but
    GET and HEAD) to a URL without its trailing slash is answered with a 308 Permanent
    Redirect, which a client must follow with the same method and body (RFC 9110 §15.4.9),
    instead of Django's 301, after which clients send a GET without the body (and, with
    DEBUG on, instead of Django's RuntimeError). Under /api/ the answer's body says so in the
    shape of the API's errors."""

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if response.status_code == 404 and self.should_redirect_with_slash(request):
            return self._slash_redirect(request)
        return super().process_response(request, response)

    def _slash_redirect(self, request: HttpRequest) -> HttpResponse:
        # Django's get_full_path_with_slash(), without its DEBUG-only RuntimeError for a POST.
        location = escape_leading_slashes(request.get_full_path(force_append_slash=True))
        if request.method in _REDIRECTED_AS_GET:
            return self.response_redirect_class(location)
        response = HttpResponsePermanentRedirect(location, preserve_request=True)
        if request.path.startswith("/api/"):
            response["Content-Type"] = "application/json"
            response.content = json.dumps(
                {
                    "code": "trailing_slash",
                    "message": (
                        f"The URL is {location}, with a trailing slash. This 308 redirects "
                        "there with the same method and body; send requests there directly."
                    ),
                    "details": {"location": location},
                }
            )
        response["Content-Length"] = str(len(response.content))
        return response
