"""ENRICH: pure functions that add derived fields (country, prefix, domains, fingerprints) to events."""
