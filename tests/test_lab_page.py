"""JupyterLab's page in the standalone server does not hand out the server's token.

JupyterLab writes the server's token into every ``/lab`` page (``page_config.token``) and
its front end then sends it with every request: in ``jupyter collab-docs`` that token is
the administrator's, so any signed-in user would read it from the page and act as the
administrator (and JupyterLab would do so for them). Users sign in with their own
token; the page carries none.
"""

from __future__ import annotations

import json
import re
import urllib.request

from jupyter_collab_docs.testing import StandaloneServer


def lab_page_config(server: StandaloneServer, token: str) -> dict[str, object]:
    request = urllib.request.Request(
        f"{server.url}/lab", headers={"Authorization": f"token {token}"}
    )
    with urllib.request.urlopen(request, timeout=20) as response:
        html = response.read().decode()
    match = re.search(
        r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', html, re.S
    )
    assert match, html[:500]
    return json.loads(match.group(1))


def test_the_lab_page_carries_no_server_token(standalone: StandaloneServer) -> None:
    carol = standalone.cli("users", "add", "carol").splitlines()[-1].strip()
    standalone.start()
    for token in (carol, standalone.token):
        config = lab_page_config(standalone, token)
        assert config["token"] == "", "the /lab page hands out the server's token"
    # The administrator's own requests still work with the server's token.
    assert standalone.request("GET", "me")["is_admin"] is True
