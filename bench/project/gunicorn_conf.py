"""gunicorn settings of the benchmark servers (2 sync workers, access log off)."""

import os

from bench.project.served import ServedCounter

workers = 2
worker_class = "sync"
accesslog = None
loglevel = "warning"
# Measure the application, not worker recycling.
max_requests = 0
timeout = 60

_served = ServedCounter(os.environ["BENCH_SERVED_FILE"])


def post_request(worker, req, environ, resp):
    # Called in a finally block for every request, also when wrk has gone.
    status = getattr(resp, "status_code", None) or 500
    _served.add(200 <= status < 300)
