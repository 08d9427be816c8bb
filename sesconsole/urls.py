from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from tencent import views as tencent_views

urlpatterns = [
    # GET: the console; a signed POST: the Tencent Cloud API 3.0 compatible endpoint.
    path("", tencent_views.root, name="home"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("sesconsole.console_urls")),
    path("admin/", admin.site.urls),
    path("t/", include("delivery.tracking_urls")),
    path("api/v1/", include("sesconsole.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="schema", template_name="api_docs.html"),
        name="api-docs",
    ),
]

handler404 = "sesconsole.views.not_found"
handler500 = "sesconsole.views.server_error"
