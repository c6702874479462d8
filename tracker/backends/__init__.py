"""Counter backends: where and how the counts are kept in the cache."""
