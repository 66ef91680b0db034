# The configuration of every node, from the environment: mounted read-only by
# deploy/docker-compose.yml, and used as is by scripts/deploy-local (the stack
# tests/deploy/ runs), which points each node's JUPYTER_CONFIG_DIR at this file.
# Read by the server and by the `jupyter collab-docs users|groups` commands alike.
import os

c = get_config()  # noqa: F821
env = os.environ

c.CollabDocsApp.store_url = env["COLLAB_DOCS_STORE_URL"]  # MongoDB (FerretDB in the tests)
c.CollabDocsApp.acl_url = env["COLLAB_DOCS_ACL_URL"]  # MySQL / MariaDB
# Redis: redis://host:6379/0, or redis+sentinel://s1:26379,s2:26379/service/0 to follow
# Sentinel failovers (docs/cluster.md).
c.CollabDocsApp.cluster_url = env["COLLAB_DOCS_CLUSTER_URL"]
c.CollabDocsApp.audit_sinks = [env["COLLAB_DOCS_AUDIT_URL"]]  # kafka://host:9092/topic
c.CollabDocsApp.data_dir = env.get("COLLAB_DOCS_DATA_DIR", "/home/collab/data")  # audit spool
if env.get("COLLAB_DOCS_NODE_ID"):  # default: the hostname and a random suffix
    c.CollabDocsApp.node_id = env["COLLAB_DOCS_NODE_ID"]
c.RedisBus.channel_prefix = env.get("COLLAB_DOCS_CHANNEL_PREFIX", "collab-docs-prod")

# Behind the proxy: trust its X-Forwarded-* headers, accept its Host.
c.ServerApp.trust_xheaders = True
c.ServerApp.allow_remote_access = True
# The server's own token is for operators; users have per-user tokens
# (`jupyter collab-docs users add NAME`).
c.IdentityProvider.token = env["COLLAB_DOCS_SERVER_TOKEN"]
