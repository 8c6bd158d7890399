"""REPORT: DuckDB over the event lake: views, ad-hoc SQL, profiles, trends, exports."""
