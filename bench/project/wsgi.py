"""WSGI entry point of the benchmark project (gunicorn serves it)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.project.settings")

application = get_wsgi_application()
