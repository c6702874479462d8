"""Models with each kind of primary key, for per-object counters."""

import uuid

from django.db import models


class Article(models.Model):
    """An integer primary key."""

    title = models.CharField(max_length=100)

    def __str__(self) -> str:
        return self.title


class Product(models.Model):
    """A UUID primary key."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    name = models.CharField(max_length=100)

    def __str__(self) -> str:
        return self.name


class Page(models.Model):
    """A text primary key."""

    slug = models.CharField(max_length=100, primary_key=True)

    def __str__(self) -> str:
        return self.slug
