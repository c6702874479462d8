"""The demo app's configuration."""

from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Pages that show django-tracker at work."""

    name = "testproj.demo"
    label = "demo"
    verbose_name = "Demo"
    default_auto_field = "django.db.models.BigAutoField"
