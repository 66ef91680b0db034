"""One JSON request over plain HTTP, for tests that talk to servers they did not start
through ``jupyter_collab_docs.testing`` (cluster nodes, the deployed local stack)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any


def request_json(
    url: str, method: str, body: Any = None, token: str | None = None
) -> tuple[int, Any]:
    """``(status, parsed JSON body or None)``; an HTTP error status is returned, not raised."""
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Authorization": f"token {token}"} if token else {}
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            text = response.read().decode()
            return response.status, json.loads(text) if text else None
    except urllib.error.HTTPError as err:
        text = err.read().decode()
        return err.code, json.loads(text) if text else None
