"""Production-scale tests: PostgreSQL, concurrency, replicas, crash safety, fuzzing."""
