"""WSGI entry point of the demo project (``gunicorn testproj.wsgi``)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "testproj.settings")

application = get_wsgi_application()
