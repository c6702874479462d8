"""django-tracker's benchmark: one run, baselines and peers side by side (README.md)."""
