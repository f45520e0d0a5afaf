"""Supervisor mode at the booth: the login dialog and the review window."""
