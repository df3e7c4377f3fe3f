"""One file per schema change, oldest first; see docs/deploy.md "Schema changes"."""
