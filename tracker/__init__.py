"""Count what visitors do in Django's cache and fold the counts into daily rows."""

__version__ = "1.0.0.dev0"
