"""The demo app: tracked links, the original jQuery page, articles with views."""
