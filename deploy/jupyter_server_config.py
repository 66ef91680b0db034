# Shared by every node of deploy/docker-compose.yml (mounted read-only).
# Secrets come from the environment (see docker-compose.yml).
import os

c = get_config()  # noqa: F821

c.CollabDocsApp.store_url = os.environ["COLLAB_DOCS_STORE_URL"]  # MongoDB
c.CollabDocsApp.acl_url = os.environ["COLLAB_DOCS_ACL_URL"]  # MySQL / MariaDB
c.CollabDocsApp.cluster_url = os.environ["COLLAB_DOCS_CLUSTER_URL"]  # Redis
c.CollabDocsApp.audit_sinks = [os.environ["COLLAB_DOCS_AUDIT_URL"]]  # Kafka
c.CollabDocsApp.data_dir = "/home/collab/data"  # local spool of the audit trail
c.RedisBus.channel_prefix = "collab-docs-prod"

# Behind the proxy: trust its X-Forwarded-* headers, accept its Host.
c.ServerApp.trust_xheaders = True
c.ServerApp.allow_remote_access = True
# The server's own token is for operators; users have per-user tokens
# (`jupyter collab-docs users add NAME`).
c.IdentityProvider.token = os.environ["COLLAB_DOCS_SERVER_TOKEN"]
