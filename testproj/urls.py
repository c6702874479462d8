"""URLs of the demo project."""

from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from testproj.demo import views
from tracker.views import get_stats, report, track

urlpatterns = [
    path("", views.index, name="index"),
    path("links/", views.links, name="links"),
    path("jquery/", views.jquery_page, name="jquery"),
    path("articles/", views.article_list, name="article_list"),
    path("articles/<int:pk>/", views.article_detail, name="article_detail"),
    path("admin/", admin.site.urls),
    # Browsers ask for it on every page, the admin's included.
    path("favicon.ico", RedirectView.as_view(url=static("demo/favicon.svg"))),
    path("tracker/", include("tracker.urls")),
    # The original README's snippets call these root paths.
    path("track/", track),
    path("get_stats/", get_stats),
    path("report/", report),
]
