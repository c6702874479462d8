"""An article model whose views are counted per object."""

from django.db import models
from django.urls import reverse


class Article(models.Model):
    """A short article; each visit of its page counts one view."""

    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    published = models.DateField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("article_detail", args=[self.pk])
