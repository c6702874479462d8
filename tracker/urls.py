"""URLs of django-tracker: ``path("tracker/", include("tracker.urls"))``."""

from django.urls import path

from tracker import views

app_name = "tracker"

urlpatterns = [
    path("track/", views.track, name="track"),
    path("get_stats/", views.get_stats, name="get_stats"),
    path("report/", views.report, name="report"),
    path("counts/", views.counts, name="counts"),
]
