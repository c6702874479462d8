"""URLs of the benchmark project."""

from django.conf import settings
from django.urls import include, path

from bench.project import views

urlpatterns = [
    path("empty/", views.empty),
    path("incr2/", views.incr2),
    path("pipe2/", views.pipe2),
    path("tracker/", include("tracker.urls")),
]
if settings.PEERS:
    # As the peers' READMEs mount them.
    urlpatterns += [
        path("djinsight/", include("djinsight.urls")),
        path("hitcount/", include(("hitcount.urls", "hitcount"), namespace="hitcount")),
    ]
