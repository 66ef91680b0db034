"""What one HTTP connection may cost the standalone server, and what its log keeps.

Jupyter Server's HTTP server reads a request body of up to 512 MB into memory before any
handler runs (so before anyone is authenticated), and waits an hour for a request's
headers. The standalone server instead refuses a body larger than ``max_body_size``
from its ``Content-Length`` (or as soon as a chunked body passes it) without reading it,
and closes connections that are slow to send headers or a body, or idle between
requests. Inside someone's own Jupyter server these are that server's settings
(``c.ServerApp.max_body_size`` and ``max_buffer_size``; Jupyter has no timeout settings).

Share-link tokens (``?link=``) are credentials: every server's request log scrubs them
like Jupyter scrubs ``?token=``, and so do Tornado's error lines ("401 GET /…?link=…"),
which Jupyter does not scrub.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from tornado import httpserver, web
from tornado.log import app_log, gen_log

MiB = 1024 * 1024
LOG_SCRUBBED_PARAMETERS = ("link",)
# Jupyter's request log scrubs parameters whose name contains one of these; so do we.
JUPYTER_SCRUBBED_PARAMETERS = ("token", "auth", "key", "code", "state", "xsrf")
SECRET_NAMES = "|".join(LOG_SCRUBBED_PARAMETERS + JUPYTER_SCRUBBED_PARAMETERS)
SECRET_PARAMETER = re.compile(rf"([?&][^=&#\s]*(?:{SECRET_NAMES})[^=&#\s]*=)[^&#\s]*")


def scrub(text: str) -> str:
    """``text`` with the value of every secret URL parameter replaced by ``[secret]``."""
    return SECRET_PARAMETER.sub(r"\1[secret]", text)


class ScrubSecrets(logging.Filter):
    """Scrubs secret URL parameters from the URLs Tornado puts in its error lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = scrub(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(scrub(a) if isinstance(a, str) else a for a in record.args)
        return True


SCRUB_SECRETS = ScrubSecrets()


def scrub_link_tokens(web_app: web.Application) -> None:
    """The logs write ``[secret]`` for the value of ``?link=``: Jupyter's request log
    (its extra scrubbed keys) and Tornado's error lines (a filter on its loggers)."""
    keys = list(web_app.settings.get("extra_log_scrub_param_keys") or [])
    keys += [key for key in LOG_SCRUBBED_PARAMETERS if key not in keys]
    web_app.settings["extra_log_scrub_param_keys"] = keys
    for logger in (gen_log, app_log):
        if SCRUB_SECRETS not in logger.filters:
            logger.addFilter(SCRUB_SECRETS)


def limit_request_sizes(serverapp: Any, max_body_size: int, max_message_size: int) -> None:
    """Bound request bodies by ``max_body_size`` in the HTTP server itself (called while
    extensions load, before Jupyter creates its HTTP server from these settings).

    The read buffer must hold the largest WebSocket message a room accepts."""
    serverapp.max_body_size = max_body_size
    serverapp.max_buffer_size = max(max_body_size, max_message_size) + MiB


def set_timeouts(server: httpserver.HTTPServer, header_timeout: float, body_timeout: float) -> None:
    """Close connections slow to send headers or a body, or idle between requests.

    The connection parameters are one object shared by every connection of the server,
    so this applies also to connections accepted before it ran."""
    server.conn_params.header_timeout = header_timeout
    server.conn_params.body_timeout = body_timeout
