"""Models with each kind of primary key, for per-object counters."""

import uuid

from django.db import models

from tracker.models import TrackedMixin


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


# The same tables seen through TrackedMixin: a proxy counts as its concrete model.
class TrackedArticle(TrackedMixin, Article):
    class Meta:
        proxy = True


class TrackedProduct(TrackedMixin, Product):
    class Meta:
        proxy = True


class TrackedPage(TrackedMixin, Page):
    tracker_label = "read"

    class Meta:
        proxy = True
