"""App configuration: registers django-tracker's system checks."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TrackerConfig(AppConfig):
    """django-tracker."""

    name = "tracker"
    label = "tracker"
    verbose_name = _("Tracker")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tracker import checks  # noqa: F401 - registers the checks
