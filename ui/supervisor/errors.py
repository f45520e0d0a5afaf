"""A failed supervisor request in words, shared by the review window's tabs."""

from __future__ import annotations

import logging

from PySide6.QtCore import QCoreApplication

from desktop.client import ServerError, ServerRejected
from desktop.supervisor_client import NotLoggedIn


def tr(text: str) -> str:
    """Translate ``text`` in the "SupervisorErrors" context."""
    return QCoreApplication.translate("SupervisorErrors", text)


def failure_text(error: Exception, log: logging.Logger, what: str) -> str:
    """What to tell the supervisor about ``error``; logs it as ``what`` (a warning when
    the server is unreachable, an error with its trace when the cause is unknown)."""
    if isinstance(error, ServerRejected):
        return tr("The server refused: {message}").format(message=error.message)
    if isinstance(error, NotLoggedIn):
        return tr("You are not logged in; close this window and log in again.")
    if isinstance(error, ServerError):
        log.warning("%s: %s", what, error.message)
        return tr("The server cannot be reached; try again.")
    log.error("%s failed", what, exc_info=error)
    return tr("Something went wrong; see the log.")
