"""The Django project the benchmark serves with gunicorn and drives with wrk."""
