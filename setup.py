"""Packaging for django-tracker."""

import re
from pathlib import Path

from setuptools import find_namespace_packages, setup

HERE = Path(__file__).parent
VERSION = re.search(
    r'__version__ = "([^"]+)"', (HERE / "tracker" / "__init__.py").read_text()
).group(1)

setup(
    name="django-tracker",
    version=VERSION,
    description=(
        "First-party counts of what visitors do, kept in Django's cache and "
        "folded exactly once into daily rows."
    ),
    long_description=(HERE / "README.rst").read_text(encoding="utf-8"),
    long_description_content_type="text/x-rst",
    license="BSD-3-Clause",
    # Namespace discovery, so that the template, static and locale folders
    # are packaged as data without setuptools warning about each of them.
    packages=find_namespace_packages(
        include=["tracker", "tracker.*"], exclude=["*.__pycache__"]
    ),
    include_package_data=True,
    zip_safe=False,
    python_requires=">=3.11",
    install_requires=["Django>=5.2,<5.3"],
    extras_require={
        "memcached": ["pymemcache>=4.0"],
        "redis": ["redis>=5.0", "hiredis>=2.3"],
        "django-redis": ["django-redis>=5.4", "redis>=5.0", "hiredis>=2.3"],
        "celery": ["celery>=5.3"],
        "test": [
            "pytest>=8",
            "pytest-django>=4.8",
            "pymemcache>=4.0",
            "redis>=5.0",
            "hiredis>=2.3",
            "django-redis>=5.4",
            "celery>=5.3",
            "psycopg[binary]>=3.1",
            "playwright>=1.40",
            "ruff>=0.6",
            "gunicorn>=22",  # the benchmark smoke test serves with it
            "docutils>=0.20",
        ],
    },
    classifiers=[
        "Development Status :: 4 - Beta",
        "Environment :: Web Environment",
        "Framework :: Django",
        "Framework :: Django :: 5.2",
        "Intended Audience :: Developers",
        "Operating System :: OS Independent",
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: 3.11",
        "Topic :: Internet :: WWW/HTTP :: Site Management",
    ],
)
