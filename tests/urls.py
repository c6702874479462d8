"""URLs for the test suite."""

from django.contrib import admin
from django.urls import include, path

from tracker.views import track

urlpatterns = [
    path("admin/", admin.site.urls),
    path("tracker/", include("tracker.urls")),
    # A second route to the same view, as the original's root /track/.
    path("track/", track),
]
