"""JavaScript's semantics, each once: values and truthiness, numbers, JSON, Date parsing."""
