"""JupyterHub with collaborative documents shared between users' single-user servers.

Run it from the repository root, with jupyter-collab-docs and jupyterhub installed in the
same Python environment and the proxy installed by npm:

    npm ci --prefix examples/jupyterhub
    jupyterhub -f examples/jupyterhub/jupyterhub_config.py

then open http://127.0.0.1:8000 and sign in as any user with any password (a testing
authenticator). Everything listens on 127.0.0.1. Every setting below can be changed
through an environment variable (``COLLAB_HUB_*``), which is also how
tests/test_jupyterhub.py runs this very file on free ports and in a temporary directory.

What makes collaboration work across users:

- every single-user server loads the jupyter_collab_docs extension (it is enabled on
  install) and is started with ``--CollabDocsApp.data_dir`` pointing at ONE shared
  directory, so all of them read and write the same documents.db and access.db;
- the extension reads each user's JupyterHub groups (shares to ``group:NAME``) and makes
  holders of the custom scope ``custom:collab-docs:admin`` its administrators;
- that scope is defined here, granted to the group ``collab-docs-admins`` through a role,
  and allowed into the OAuth tokens of browser sessions.

For trying things only: SimpleLocalProcessSpawner runs every user's server as the hub's
own system user, without isolation. See docs/jupyterhub.md for production and limits.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

c = get_config()  # type: ignore[name-defined]  # noqa: F821  (provided by JupyterHub)

HERE = Path(__file__).resolve().parent
ADMIN_SCOPE = "custom:collab-docs:admin"


def env(name: str, default: str) -> str:
    return os.environ.get(f"COLLAB_HUB_{name}", default)


def names(name: str, default: str) -> list[str]:
    """A comma-separated list of usernames from the environment."""
    return [n.strip() for n in env(name, default).split(",") if n.strip()]


# -- where things live ---------------------------------------------------------------------

# The hub's own state (its database, cookie secret, proxy pid file).
state_dir = Path(env("STATE_DIR", str(Path(tempfile.gettempdir(), "collab-docs-hub")))).resolve()
# The directory shared by every single-user server: documents.db and access.db.
docs_dir = Path(env("DOCS_DIR", str(state_dir / "collab_docs"))).resolve()
# Home directories of the (non-system) users.
homes_dir = Path(env("HOMES_DIR", str(state_dir / "homes"))).resolve()
for directory in (state_dir, docs_dir, homes_dir):
    directory.mkdir(parents=True, exist_ok=True)

c.JupyterHub.db_url = f"sqlite:///{state_dir / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(state_dir / "jupyterhub_cookie_secret")
c.ConfigurableHTTPProxy.pid_file = str(state_dir / "jupyterhub-proxy.pid")

# -- network: everything on the loopback interface ---------------------------------------

c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = int(env("PORT", "8000"))  # the proxy's public port: users go here
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(env("HUB_PORT", "8081"))  # the hub itself, behind the proxy
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{env('PROXY_API_PORT', '8001')}"
c.Spawner.ip = "127.0.0.1"  # single-user servers pick free ports on the loopback

# The proxy: configurable-http-proxy from examples/jupyterhub/node_modules (npm ci), or
# the one on PATH.
local_proxy = HERE / "node_modules" / ".bin" / "configurable-http-proxy"
proxy = str(local_proxy) if local_proxy.exists() else shutil.which("configurable-http-proxy")
if proxy:
    c.ConfigurableHTTPProxy.command = [proxy]

# -- who signs in ------------------------------------------------------------------------

# A testing authenticator: any username with any password. Replace it (OAuthenticator,
# LDAPAuthenticator, ...) in production; nothing below depends on it.
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allow_all = True
c.Authenticator.admin_users = set(names("HUB_ADMINS", "admin"))  # administer the HUB

# Groups are shared with the extension: a document shared with ``group:team`` is readable
# by every member of the hub group ``team``. Members can also be managed at run time
# through the hub's REST API or admin page; single-user servers see a change once
# their cached copy of the hub's answer expires (HubOAuth.cache_max_age, below).
c.JupyterHub.load_groups = {
    "team": {"users": names("TEAM", "alice,bob")},
    "collab-docs-admins": {"users": names("DOC_ADMINS", "carol")},
}

# -- collab-docs administrators: a custom scope -------------------------------------------

c.JupyterHub.custom_scopes = {
    ADMIN_SCOPE: {
        "description": "Administer collaborative documents: act as the owner of every one.",
    },
}
roles = [
    {
        "name": "collab-docs-admin",
        "description": "Administrators of collaborative documents",
        "scopes": [ADMIN_SCOPE],
        "groups": ["collab-docs-admins"],
    },
]
# Browser sessions reach a single-user server with an OAuth token that holds only the
# scopes its client may ask for: let it carry the admin scope (to those who hold it).
# API tokens issued by the hub carry all of their owner's scopes by default.
c.Spawner.oauth_client_allowed_scopes = [ADMIN_SCOPE]

# An optional service with an API token, to script users, groups, servers and tokens
# through the hub's REST API (the test uses it).
service_token = env("SERVICE_TOKEN", "")
if service_token:
    c.JupyterHub.services = [{"name": "collab-docs-setup", "api_token": service_token}]
    roles.append(
        {
            "name": "collab-docs-setup",
            "scopes": ["admin:users", "admin:groups", "admin:servers", "tokens"],
            "services": ["collab-docs-setup"],
        }
    )
c.JupyterHub.load_roles = roles

# -- single-user servers ---------------------------------------------------------------

# Users need not exist on this machine: each runs as the hub's user, in HOMES_DIR/NAME.
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = str(homes_dir / "{username}")
# The single-user server of this very Python environment (its PATH is not passed on).
c.Spawner.cmd = [sys.executable, "-m", "jupyterhub.singleuser"]
c.Spawner.args = [
    # The point of it all: one set of databases for every user's server.
    f"--CollabDocsApp.data_dir={docs_dir}",
    # Without a cluster bus (set --CollabDocsApp.cluster_url=redis://... for live rooms
    # across servers, see docs/cluster.md) servers share the databases but not live
    # rooms, nor news of share changes. So: unload idle rooms soon, to read again what
    # other servers stored; and re-check every live socket's role often, so a share
    # revoked on one server closes the sockets on the others within seconds.
    "--CollabDocsApp.room_idle_timeout=" + env("ROOM_IDLE_TIMEOUT", "10"),
    "--CollabDocsApp.revalidate_interval=" + env("REVALIDATE_INTERVAL", "2"),
    # How long a single-user server trusts its copy of a user's hub groups and scopes
    # (JupyterHub's default: 300 s). A user removed from a group keeps its shares that
    # long.
    "--HubOAuth.cache_max_age=" + env("HUB_AUTH_CACHE", "60"),
]
if hasattr(os, "geteuid") and os.geteuid() == 0:
    c.Spawner.args.append("--allow-root")  # e.g. in a container running as root
c.Spawner.start_timeout = int(env("START_TIMEOUT", "60"))
c.Spawner.http_timeout = int(env("START_TIMEOUT", "60"))

c.JupyterHub.cleanup_servers = True  # stop users' servers when the hub stops
