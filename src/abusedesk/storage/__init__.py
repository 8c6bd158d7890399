"""PERSIST: the relational store (SQLite default, PostgreSQL in production), migrations, audit."""
