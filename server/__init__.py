"""Recoup reference operator server (FastAPI + SQLAlchemy); never imports desktop or ui."""
