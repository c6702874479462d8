"""Admin of the demo's articles."""

from django.contrib import admin

from testproj.demo.models import Article


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    """Articles, newest first."""

    list_display = ["title", "published"]
    search_fields = ["title"]
