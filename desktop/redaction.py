"""Keeping secrets out of log lines and messages: camera passwords, tokens in URLs.

Every URL a person may read (a log line, an error, a status) goes through
:func:`redact_url`; :func:`url_secrets` lists the secret parts so arbitrary text that may
quote the URL (an OpenCV or requests error) can be scrubbed too.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

MASK = "***"

_URL_WITH_USERINFO = re.compile(r"(?s)^([A-Za-z][A-Za-z0-9+.-]*://)(.*)@(.*)$")
# Query parameters that carry secrets on common IP cameras (user/pwd, loginpas, token=...).
SECRET_QUERY_KEY = re.compile(r"pass|pwd|token|secret|key|auth|sig|cred", re.IGNORECASE)


def redact_url(url: str) -> str:
    """A URL with its password and secret-looking query values replaced by ``***``.

    ``rtsp://user:pass@host/stream`` becomes ``rtsp://user:***@host/stream`` and
    ``http://cam/video?user=a&pwd=b`` becomes ``http://cam/video?user=a&pwd=***``. Text
    that is not a URL (a file path, a USB index) comes back unchanged. Everything between
    ``://`` and the *last* ``@`` counts as user info, so a password holding ``@`` or ``/``
    is still hidden (at worst a path with an ``@`` is masked too).
    """
    match = _URL_WITH_USERINFO.match(url)
    if match:
        user, sep, _password = match[2].partition(":")
        if sep:
            url = f"{match[1]}{user}:{MASK}@{match[3]}"
    base, sep, query = url.partition("?")
    if not sep:
        return url
    query, hash_, fragment = query.partition("#")
    masked = "&".join(_mask_param(param) for param in query.split("&"))
    return f"{base}?{masked}{hash_}{fragment}"


def url_secrets(url: str) -> tuple[str, ...]:
    """Passwords and secret query values in ``url``, raw and percent-decoded, longest first."""
    found: set[str] = set()
    match = _URL_WITH_USERINFO.match(url)
    if match:
        _user, sep, password = match[2].partition(":")
        if sep and password:
            found.update((password, unquote(password)))
    _base, _sep, query = url.partition("?")
    for param in query.split("&") if query else ():
        key, sep, value = param.partition("=")
        if sep and value and SECRET_QUERY_KEY.search(key):
            found.update((value, unquote(value)))
    found.discard("")
    return tuple(sorted(found, key=len, reverse=True))


def _mask_param(param: str) -> str:
    key, sep, value = param.partition("=")
    if sep and value and SECRET_QUERY_KEY.search(key):
        return f"{key}={MASK}"
    return param
