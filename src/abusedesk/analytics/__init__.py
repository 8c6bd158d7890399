"""REPORT: ad-hoc read-only SQL over the event lake (sql.py); profiles, trends and exports are
planned."""
