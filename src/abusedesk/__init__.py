"""abusedesk: Trust & Safety operations for messaging platforms.

The package reads in data-flow order: events -> enrich -> detection -> cases -> enforcement ->
notices -> analytics, with storage underneath and api/web/cli on top. docs/architecture.md says
where a new file goes.
"""

__version__ = "0.1.0"
