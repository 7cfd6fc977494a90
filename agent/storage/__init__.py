"""SQL storage: tables, the unit of work and migrations (SQLite by default, PostgreSQL too)."""
