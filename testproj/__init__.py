"""django-tracker's demo project (locmem cache + SQLite): ``manage.py rundemo``."""
