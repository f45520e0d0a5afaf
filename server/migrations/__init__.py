"""Alembic migrations of the reference server (applied by ``server.migrate``)."""
