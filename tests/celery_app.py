"""The Celery app of the Celery test's worker, configured from Django settings.

Started as ``celery -A tests.celery_app worker``, the way a project runs its
own: settings under the ``CELERY_`` namespace, tasks found in installed apps.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

app = Celery("tracker_tests")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
