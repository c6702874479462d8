"""The admin: statistics with filters and totals, a chart page, CSV/JSON export."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.db.models import Max, Min, QuerySet, Sum
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tracker.charts import bar_chart
from tracker.counters import local_today
from tracker.exports import FORMATS, export_response
from tracker.models import FoldLock, Statistic
from tracker.periods import describe_period

# The chart draws one bar a day; longer ranges are cut to their last days.
MAX_CHART_DAYS = 731
DEFAULT_CHART_DAYS = 30
# Query parameters of the chart and export pages that the changelist's
# filters must not see.
_OWN_PARAMS = ("format",)


def _parse_day(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError as error:
        raise IncorrectLookupParameters(error) from error


class DayRangeFilter(admin.FieldListFilter):
    """Days from and to (both optional, inclusive), typed in two date inputs."""

    template = "admin/tracker/day_range_filter.html"

    def __init__(self, field, request, params, model, model_admin, field_path):
        self.since_name = f"{field_path}__gte"
        self.until_name = f"{field_path}__lte"
        # An input left empty means "no bound", not a bad lookup.
        for name in (self.since_name, self.until_name):
            if name in params and not any(params[name]):
                params.pop(name)
        super().__init__(field, request, params, model, model_admin, field_path)
        self.title = gettext_lazy("day range")
        self.others = [
            (key, value)
            for key, value in request.GET.items()
            if key not in (self.since_name, self.until_name, "p", "e")
        ]

    def expected_parameters(self) -> list[str]:
        return [self.since_name, self.until_name]

    def bound(self, name: str) -> str:
        values = self.used_parameters.get(name) or [""]
        return values[-1]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        for name, lookup in ((self.since_name, "gte"), (self.until_name, "lte")):
            if self.bound(name):
                day = _parse_day(self.bound(name))
                queryset = queryset.filter(**{f"{self.field_path}__{lookup}": day})
        return queryset

    def choices(self, changelist: Any) -> Any:
        yield {
            "since": self.bound(self.since_name),
            "until": self.bound(self.until_name),
            "since_name": self.since_name,
            "until_name": self.until_name,
            "others": self.others,
            "clear": changelist.get_query_string(
                remove=[self.since_name, self.until_name]
            ),
        }


class ValueFilter(admin.AllValuesFieldListFilter):
    """All values of a text field, with the empty one shown as "(none)"."""

    def choices(self, changelist: Any) -> Any:
        for choice in super().choices(changelist):
            if choice["display"] == "":
                choice = {**choice, "display": _("(none)")}
            yield choice


def _range_of(request: HttpRequest) -> tuple[datetime.date, datetime.date]:
    """The days a chart covers: the day filters, the date hierarchy, or 30 days."""
    today = local_today()
    get = request.GET
    start = end = None
    if get.get("day__year"):
        year = int(get["day__year"])
        month = int(get.get("day__month") or 0)
        day = int(get.get("day__day") or 0)
        if day:
            start = end = datetime.date(year, month, day)
        elif month:
            start = datetime.date(year, month, 1)
            following = datetime.date(year + month // 12, month % 12 + 1, 1)
            end = following - datetime.timedelta(days=1)
        else:
            start, end = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    if get.get("day__gte"):
        start = max(filter(None, [start, _parse_day(get["day__gte"])]))
    if get.get("day__lte"):
        end = min(filter(None, [end, _parse_day(get["day__lte"])]))
    end = min(end or today, today)
    start = start or end - datetime.timedelta(days=DEFAULT_CHART_DAYS - 1)
    start = max(start, end - datetime.timedelta(days=MAX_CHART_DAYS - 1))
    if start > end:
        raise IncorrectLookupParameters("the range ends before it starts")
    return start, end


@admin.register(Statistic)
class StatisticAdmin(admin.ModelAdmin):
    """Daily counts: read only, filtered, totalled, charted and exported."""

    list_display = (
        "day",
        "label",
        "category",
        "dom_id",
        "counted_object",
        "counter",
        "uniques",
    )
    list_filter = (
        ("day", DayRangeFilter),
        ("category", ValueFilter),
        ("label", ValueFilter),
        ("content_type", admin.RelatedOnlyFieldListFilter),
    )
    list_select_related = ("content_type",)
    date_hierarchy = "day"
    search_fields = ("label", "category", "dom_id", "object_id")
    # Counting every row again for "(N total)" is a second full scan per page.
    show_full_result_count = False
    list_per_page = 100
    actions = ("export_csv", "export_json")
    fields = (
        "day",
        "label",
        "category",
        "dom_id",
        "content_type",
        "object_id",
        "counter",
        "uniques",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # rows are written by the fold only

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=gettext_lazy("object"), ordering="object_id")
    def counted_object(self, row: Statistic) -> str:
        if not row.content_type_id:
            return ""
        content_type = row.content_type
        return f"{content_type.app_label}.{content_type.model} #{row.object_id}"

    # --- Totals above the list -------------------------------------------

    def changelist_view(
        self, request: HttpRequest, extra_context: dict | None = None
    ) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None)
        if context and "cl" in context:
            changelist = context["cl"]
            context["tracker_totals"] = changelist.queryset.order_by().aggregate(
                count=Sum("counter", default=0),
                uniques=Sum("uniques", default=0),
                first=Min("day"),
                last=Max("day"),
            )
            context["tracker_query"] = changelist.get_query_string(remove=["p", "o"])
        return response

    # --- Chart and export pages ----------------------------------------------

    def get_urls(self) -> list:
        wrap = self.admin_site.admin_view
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path("chart/", wrap(self.chart_view), name=f"{prefix}_chart"),
            path("export/", wrap(self.export_view), name=f"{prefix}_export"),
            *super().get_urls(),
        ]

    def _filtered(self, request: HttpRequest) -> QuerySet:
        """The rows the changelist shows for this request's filters and search."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        original = request.GET
        request.GET = original.copy()
        for name in _OWN_PARAMS:
            request.GET.pop(name, None)
        try:
            return self.get_changelist_instance(request).queryset
        finally:
            request.GET = original

    def chart_view(self, request: HttpRequest) -> HttpResponse:
        """Daily counts of the filtered rows as an SVG chart, with top lists."""
        try:
            rows = self._filtered(request)
            start, end = _range_of(request)
        except (IncorrectLookupParameters, ValueError):
            return HttpResponseBadRequest(_("Bad filter or date range."))
        series = rows.series((start, end))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Statistics chart"),
            "chart": bar_chart(series),
            "start": start,
            "end": end,
            "range_name": describe_period((start, end)),
            "range_dates": f"{start:%Y-%m-%d} – {end:%Y-%m-%d}",
            "top_labels": rows.top_labels(10, (start, end)),
            "top_objects": rows.top_objects(10, (start, end)),
            "others": [
                (key, value)
                for key, value in request.GET.items()
                if key not in ("day__gte", "day__lte", "day__year", "day__month")
                and key not in ("day__day", "p")
            ],
            "query": request.GET.urlencode(),
        }
        return TemplateResponse(request, "admin/tracker/statistic/chart.html", context)

    def export_view(self, request: HttpRequest) -> HttpResponse:
        """The filtered rows as ``?format=csv`` (default) or ``json``."""
        fmt = request.GET.get("format", "csv")
        if fmt not in FORMATS:
            return HttpResponseBadRequest(_("Export as csv or json."))
        try:
            rows = self._filtered(request)
        except IncorrectLookupParameters:
            return HttpResponseBadRequest(_("Bad filter."))
        return export_response(rows, fmt)

    @admin.action(description=gettext_lazy("Export selected rows as CSV"))
    def export_csv(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse:
        return export_response(queryset, "csv")

    @admin.action(description=gettext_lazy("Export selected rows as JSON"))
    def export_json(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse:
        return export_response(queryset, "json")


@admin.register(FoldLock)
class FoldLockAdmin(admin.ModelAdmin):
    """When the last fold ran, and how many batches folds have committed."""

    list_display = ("name", "updated", "batches")
    readonly_fields = ("name", "batches", "updated")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
