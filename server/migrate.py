"""Apply the Alembic migrations shipped inside the package (independent of the cwd)."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

logger = logging.getLogger(__name__)

SCRIPT_LOCATION = Path(__file__).resolve().parent / "migrations"


def alembic_config() -> Config:
    """An Alembic ``Config`` built in code, pointing at ``server/migrations``."""
    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPT_LOCATION).replace("%", "%%"))
    return cfg


def upgrade_to_head(engine: Engine) -> None:
    """Bring the database behind ``engine`` to the newest schema revision."""
    cfg = alembic_config()
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")
    logger.info("database schema at head")
