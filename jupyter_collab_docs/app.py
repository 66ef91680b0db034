"""CollabDocsApp: the Jupyter Server extension, its configuration, and its wiring.

Loaded by ``jupyter server`` / ``jupyter lab`` through the enabled server extension, or
run on its own as ``jupyter collab-docs`` (then with per-user API tokens).

Longer than most modules because it declares every configurable setting (traits with their
help text, the configuration reference of docs/configuration.md); the wiring itself is
short: ``initialize_settings``, ``initialize_handlers``, the start and stop hooks.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import time
from pathlib import Path
from typing import Any, cast

from jupyter_core.paths import jupyter_data_dir
from jupyter_server.auth.identity import IdentityProvider, User
from traitlets import Dict, Enum, Float, Instance, Int, List, Type, Unicode, default, validate

from . import __version__, log_through_server
from .acl import ShareAccess
from .acl.database import DATABASES, AccessBackend, AccessDatabase
from .acl.directory import AccessDirectory
from .audit import AuditTrail
from .audit.sinks import Sink, parse_sink_url, url_scheme
from .authorizer import CollabDocsAuthorizer
from .cli import SUBCOMMANDS
from .cluster import BUSES, ClusterBus, bus_from_url
from .comments import CommentEvents, CommentService
from .comments.mentions import MentionNotifier, people_for
from .documents import DocumentService
from .errors import StartError
from .fail_fast import FailFastApp, describe, without_credentials
from .handlers import handlers
from .handlers.base import SETTINGS_KEY
from .identity import USERS_SETTING, Actor, CollabDocsIdentityProvider
from .lab_page import hide_server_token, own_workspaces
from .notify import Mailer, SmtpSettings
from .principals import principals_for
from .rooms import RoomConfig, RoomManager
from .server_limits import limit_request_sizes, scrub_link_tokens, set_timeouts
from .sharing import SharingService
from .stores import STORES, DocumentStore, store_from_url
from .trash import TrashPurger
from .versions import VersionPolicy, VersionService

MiB = 1024 * 1024
# Past the shutdown bound, each backend still gets this long for its last goodbye.
LAST_CLOSE_WAIT = 0.5


class CollabDocsApp(FailFastApp):
    """Collaborative Jupyter documents, stored in a database, served over Yjs rooms."""

    name = "jupyter_collab_docs"
    app_name = "jupyter collab-docs"
    description = __doc__
    version = __version__
    extension_url = "/collab-docs/"  # the page `jupyter collab-docs` opens
    load_other_extensions = True
    # The standalone server: per-user tokens; non-administrators confined to collab-docs.
    serverapp_config = {
        "identity_provider_class": CollabDocsIdentityProvider,
        "authorizer_class": CollabDocsAuthorizer,
    }
    subcommands = SUBCOMMANDS  # import strings: the CLI is imported when a command runs

    @default("config_file_name")
    def _default_config_file_name(self) -> str:
        return "jupyter_collab_docs_config"

    data_dir = Unicode(
        help="Directory of the embedded databases (documents.db, access.db).",
    ).tag(config=True)

    @default("data_dir")
    def _default_data_dir(self) -> str:
        return os.path.join(jupyter_data_dir(), "collab_docs")

    store_url = Unicode(
        help="""Where documents live: sqlite:///path/documents.db (default, in data_dir) or
        mongodb://host[:port]/database (MongoDB; write concern from the URL, default
        majority + journaled).""",
    ).tag(config=True)

    @default("store_url")
    def _default_store_url(self) -> str:
        return "sqlite:///" + str(Path(self.data_dir, "documents.db").absolute())

    @validate("store_url")
    def _validate_url(self, proposal: Any) -> str:
        # A plugged store_class decides which URLs it takes (when it builds the store).
        value = str(proposal["value"])
        return value if self.store_class is not None else STORES.check(value)

    store_class = Type(
        None,
        klass=DocumentStore,
        allow_none=True,
        help="""A DocumentStore subclass (or its dotted name) to hold the documents in place
        of the store store_url's scheme names. It is built with
        cls.from_url(store_url, node=node_id, parent=<this app>); see "Plugging a backend"
        in docs/configuration.md.""",
    ).tag(config=True)

    acl_url = Unicode(
        help="""Access database (users, tokens, groups, shares): sqlite:///path/access.db
        (default, in data_dir) or mysql+pymysql://user:password@host/db (MySQL, MariaDB).""",
    ).tag(config=True)

    @default("acl_url")
    def _default_acl_url(self) -> str:
        return "sqlite:///" + str(Path(self.data_dir, "access.db").absolute())

    @validate("acl_url")
    def _validate_acl_url(self, proposal: Any) -> str:
        value = str(proposal["value"])
        return value if self.access_database_class is not None else DATABASES.check(value)

    access_database_class = Type(
        None,
        klass=AccessBackend,
        allow_none=True,
        help="""An AccessBackend subclass (or its dotted name) to hold users, tokens, groups
        and shares in place of the one acl_url's scheme names, built with
        cls.from_url(acl_url, node=node_id, parent=<this app>); see docs/configuration.md.
        More settings of the built-in one: c.AccessDatabase.*.""",
    ).tag(config=True)

    audit_sinks = List(
        Unicode(),
        help="""Where audit events go, each as a URL: file:///path/audit.jsonl (JSON lines,
        rotated by size; default <data_dir>/audit.jsonl) or
        kafka://host:port[,host:port]/topic (keyed by document id; spooled on disk under
        <data_dir>/audit-spool while Kafka is unreachable). Empty: only the activity feed
        (kept in the document store). More settings: c.AuditTrail.*; see docs/audit.md.""",
    ).tag(config=True)

    @default("audit_sinks")
    def _default_audit_sinks(self) -> list[str]:
        return ["file://" + str(Path(self.data_dir, "audit.jsonl").absolute())]

    @validate("audit_sinks")
    def _validate_audit_sinks(self, proposal: Any) -> list[str]:
        for url in proposal["value"]:
            if url_scheme(url) not in self.audit_sink_classes:  # plugged: the class checks
                parse_sink_url(url)  # ValueError says what is wrong
        return list(proposal["value"])

    audit_sink_classes = Dict(
        key_trait=Unicode(),
        value_trait=Type(klass=Sink),
        help="""Audit sink classes by URL scheme, e.g. {"syslog": "mysite.SyslogSink"}:
        an audit_sinks URL of that scheme (syslog://...) is built by that Sink subclass
        with cls.from_url(url, node=node_id, parent=<the AuditTrail>), which adds a scheme
        or replaces a built-in one (file, kafka); see docs/configuration.md.""",
    ).tag(config=True)

    cluster_url = Unicode(
        "",
        help="""How the nodes of one deployment share live rooms: empty (default) for a
        single node, or redis://host:port/db (also rediss://, unix://) for a Redis pub/sub
        cluster bus, or redis+sentinel://host:port[,host:port]/service[/db] for that bus on
        the primary Redis Sentinel names (following failovers). Every node must use the
        same store, access database and cluster_url.
        More settings: c.RedisBus.*; see docs/cluster.md.""",
    ).tag(config=True)

    @validate("cluster_url")
    def _validate_cluster_url(self, proposal: Any) -> str:
        value = str(proposal["value"])
        return value if self.cluster_class is not None else BUSES.check(value)

    cluster_class = Type(
        None,
        klass=ClusterBus,
        allow_none=True,
        help="""A ClusterBus subclass (or its dotted name) to carry the messages between
        nodes in place of the bus cluster_url names, built with
        cls.from_url(cluster_url, node=node_id, parent=<this app>); see
        docs/configuration.md and docs/cluster.md.""",
    ).tag(config=True)

    node_id = Unicode(help="This server node's name, recorded with every stored update.").tag(
        config=True
    )

    @default("node_id")
    def _default_node_id(self) -> str:
        return f"{socket.gethostname()}-{secrets.token_hex(3)}"

    admin_users = List(
        Unicode(),
        default_value=None,
        allow_none=True,
        help="""Usernames with administrator rights in a Jupyter server (standalone users
        are admins when created with --admin). When unset, the user of a personal server
        (Jupyter's own token or password login) is the administrator, and under JupyterHub
        the users holding `hub_admin_scope` are.""",
    ).tag(config=True)

    max_message_size = Int(
        16 * MiB, help="Largest WebSocket message accepted; bigger ones close with 4413."
    ).tag(config=True)

    max_socket_backlog = Int(
        32 * MiB,
        help="""Bytes queued for one room socket whose client does not read, past which
        the queue is dropped and the socket closed with 4408. One message of any size
        is always queued, so a socket holds at most this plus one message.""",
    ).tag(config=True)

    max_body_size = Int(
        32 * MiB,
        help="""Largest REST request body accepted (413 past it). The standalone server's
        HTTP server also enforces it for every request, before anyone is authenticated: a
        larger body is refused (400, connection closed) without being read.""",
    ).tag(config=True)

    room_idle_timeout = Float(
        60.0, help="Seconds a room without sockets stays loaded before it is saved and closed."
    ).tag(config=True)

    shutdown_flush_timeout = Float(
        10.0,
        min=0.0,
        help="""At shutdown, the most seconds rooms wait for the store to take their
        unwritten updates. Sockets are closed first (1001), so clients reconnect elsewhere
        or after the restart and send again whatever the store lacks; past this bound
        (a store that is down) what is left is logged as unwritten and shutdown goes on.
        The audit trail and the store then close within what is left of the same bound
        (at least 0.5 s each).""",
    ).tag(config=True)

    write_delay = Float(
        0.05,
        help="""Period of the write tick, in seconds: a room gathers updates until the next
        tick (at most this long) and writes them to the store as a batch; all rooms of a
        process share the tick, so their batches commit together.""",
    ).tag(config=True)

    write_batch_size = Int(500, help="Most updates written to the store in one batch.").tag(
        config=True
    )

    max_pending_bytes = Int(
        64 * MiB,
        help="Bytes of updates a room may hold unwritten; past it, edits are refused (4429).",
    ).tag(config=True)

    compact_threshold = Int(
        1000, help="Log records after which a room folds its log into a snapshot."
    ).tag(config=True)

    awareness_timeout = Float(
        30.0, help="Seconds after which an awareness state that was not renewed is dropped."
    ).tag(config=True)

    revalidate_interval = Float(
        30.0,
        help="""Seconds between re-checks of every live socket's role, the backstop behind
        the immediate re-check that follows each share change.""",
    ).tag(config=True)

    auto_version_idle = Float(
        30.0, help="Seconds without edits after which edited documents get an automatic version."
    ).tag(config=True)

    auto_version_interval = Float(
        1800.0, help="During continuous editing, an automatic version at least this often (s)."
    ).tag(config=True)

    hub_admin_scope = Unicode(
        "custom:collab-docs:admin",
        help="Under JupyterHub, users holding this scope are administrators.",
    ).tag(config=True)

    # The standalone server's HTTP connections (issue #12 items 7 and 10; server_limits.py).
    # Its HTTP server also refuses bodies past max_body_size before reading them.

    header_timeout = Float(
        30.0,
        min=0.1,
        help="""Standalone server: seconds a connection may take to send a request's
        headers, and may stay idle between two requests; then it is closed (Tornado's
        idle_connection_timeout). Established WebSockets are not affected.""",
    ).tag(config=True)

    body_timeout = Float(
        300.0,
        min=0.1,
        help="""Standalone server: seconds a request may take to send its body (at most
        max_body_size); then the connection is closed.""",
    ).tag(config=True)

    # Abuse limits (issue #12): what one user may hold. 0 turns a limit off.

    max_documents_per_user = Int(
        1000,
        min=0,
        help="""Documents a user may own; past it, creating one answers 403. Administrators
        are exempt (and the documents import CLI, which is theirs).""",
    ).tag(config=True)

    trash_retention_days = Float(
        30.0,
        min=0.0,
        help="""Days a deleted document stays in its owner's trash, restorable, before the
        server purges it for good (checked hourly). Documents in the trash count toward
        max_documents_per_user.""",
    ).tag(config=True)

    max_shares_per_document = Int(
        100,
        min=0,
        help="""User and group shares a document may have (the share link is not counted);
        past it, a share to one more principal answers 403. Changing an existing share's
        role is always possible.""",
    ).tag(config=True)

    max_awareness_state_bytes = Int(
        64 * 1024,
        min=0,
        help="""Largest awareness state (JSON bytes) of one client (a cursor, a selection,
        a name: a few hundred bytes); a bigger one closes its socket with 4413.""",
    ).tag(config=True)

    max_awareness_room_bytes = Int(
        4 * MiB,
        min=0,
        help="""Awareness bytes a room keeps for its clients on this node; an update that
        would pass it closes its socket with 4429 (reconnect later).""",
    ).tag(config=True)

    max_sockets_per_user_room = Int(
        20,
        min=0,
        help="""Sockets one user may hold on one document's room on this node (tabs,
        devices); one more is closed with 4429. Administrators are exempt.""",
    ).tag(config=True)

    max_sockets_per_user = Int(
        100,
        min=0,
        help="""Room sockets one user may hold on this node, all documents together; one
        more is closed with 4429. Administrators are exempt.""",
    ).tag(config=True)

    # Update guard (issue #12): what one update may hold, and how much one user may
    # write. Every default is far above what real notebooks and editors produce (a
    # 10,000-cell notebook is about 150,000 structs in one update).

    max_update_depth = Int(
        100,
        min=1,
        help="""Deepest nesting of JSON values (objects and arrays) in an update; a deeper
        one closes its socket with 4413, fails a REST write with 413, and a stored record
        holding one is quarantined when the document loads (yrs would overflow the
        native stack on it).""",
    ).tag(config=True)

    max_update_structs = Int(
        200_000,
        min=1,
        help="Most structs (items) in one update from a socket; more closes it with 4413.",
    ).tag(config=True)

    max_update_chain = Int(
        500,
        min=1,
        help="""Most consecutive items of one client in one update that each continue the
        one before and could have been one item (yrs joins them at quadratic cost: 20,000
        took 262 MB); more closes the socket with 4413 (a stored record: quarantined).""",
    ).tag(config=True)

    max_document_structs = Int(
        1_000_000,
        min=1,
        help="""Most structs a document may hold; an update from a socket that would grow
        it past this closes with 4413, a REST write answers 413.""",
    ).tag(config=True)

    write_budget_bytes = Int(
        32 * MiB,
        min=1,
        help="""Bytes of updates one user may send to one room per write_budget_window (a
        token bucket: this much at once, refilled evenly); past it the socket closes with
        4429.""",
    ).tag(config=True)

    write_budget_structs = Int(
        200_000,
        min=1,
        help="Structs one user may send to one room per write_budget_window (as above).",
    ).tag(config=True)

    write_budget_window = Float(
        10.0, help="Seconds in which an emptied write budget fills up again."
    ).tag(config=True)

    # Mentions by e-mail (docs/comments.md, "Mentions and notifications"; notify/mail.py).
    # Off until smtp_host and mail_address_template are set.

    smtp_host = Unicode(
        "", help="SMTP server that mails mentions (empty: no e-mail; the inbox still works)."
    ).tag(config=True)

    smtp_port = Int(25, min=1, max=65535, help="The SMTP server's port.").tag(config=True)

    smtp_security = Enum(
        ["", "starttls", "ssl"],
        "",
        help="""How the SMTP connection is protected: "starttls" (upgrade a plain
        connection, usually port 587), "ssl" (TLS from the start, usually 465) or ""
        (none: a relay on the same host or network).""",
    ).tag(config=True)

    smtp_username = Unicode("", help="SMTP login (empty: no login).").tag(config=True)

    smtp_password = Unicode("", help="SMTP password, with smtp_username.").tag(config=True)

    smtp_timeout = Float(
        10.0, min=0.1, help="Seconds one SMTP exchange may take before it counts as failed."
    ).tag(config=True)

    mail_from = Unicode(
        "", help="""The From address of mention mail, e.g. "Docs <docs@example.org>"."""
    ).tag(config=True)

    mail_address_template = Unicode(
        "",
        help="""A user's e-mail address from their username: "{username}@example.org", or
        "{username}" where usernames are addresses (JupyterHub with an e-mail login).
        Empty: no e-mail.""",
    ).tag(config=True)

    public_url = Unicode(
        "",
        help="""The server's address as people reach it, base path included
        ("https://docs.example.org/" or "https://hub.example.org/user/alice/"): the
        links in mention mail. Empty: the server's own connection URL.""",
    ).tag(config=True)

    store: DocumentStore
    access_db: AccessDatabase
    users: AccessDirectory
    cluster: ClusterBus
    rooms: RoomManager
    documents: DocumentService
    sharing: SharingService
    versions: VersionService
    comments: CommentService
    mentions: MentionNotifier
    trash_purger: TrashPurger
    audit: AuditTrail

    # -- wiring ---------------------------------------------------------------------------

    def initialize_settings(self) -> None:
        if self.serverapp is not None:
            log_through_server(self.serverapp.log, cast(int, self.serverapp.log_level))
        Path(self.data_dir).mkdir(parents=True, exist_ok=True)
        self.store = store_from_url(
            self.store_url, node=self.node_id, cls=self.store_class, parent=self
        )
        self.access_db = DATABASES.build(
            self.acl_url, self.access_database_class, node=self.node_id, parent=self
        )
        self.users = AccessDirectory(self.access_db)
        # (username, display name, colour) -> (when, access-db write count, actor)
        self._actors: dict[tuple[str, str, str | None], tuple[float, int, Actor]] = {}
        access = ShareAccess(self.access_db)
        config = RoomConfig(
            node=self.node_id,
            write_delay=self.write_delay,
            write_batch_size=self.write_batch_size,
            max_pending_bytes=self.max_pending_bytes,
            compact_threshold=self.compact_threshold,
            idle_timeout=self.room_idle_timeout,
            awareness_timeout=self.awareness_timeout,
            revalidate_interval=self.revalidate_interval,
            max_awareness_state_bytes=self.max_awareness_state_bytes,
            max_awareness_room_bytes=self.max_awareness_room_bytes,
            max_sockets_per_user_room=self.max_sockets_per_user_room,
            max_sockets_per_user=self.max_sockets_per_user,
            max_update_depth=self.max_update_depth,
            max_update_structs=self.max_update_structs,
            max_update_chain=self.max_update_chain,
            max_document_structs=self.max_document_structs,
            write_budget_bytes=self.write_budget_bytes,
            write_budget_structs=self.write_budget_structs,
            write_budget_window=self.write_budget_window,
        )
        self.audit = AuditTrail(
            self.node_id,
            sinks=self.audit_sinks,
            store=self.store,
            data_dir=self.data_dir,
            event_logger=self.serverapp.event_logger if self.serverapp else None,
            sink_classes=self.audit_sink_classes,
            parent=self,
        )
        self.cluster = bus_from_url(
            self.cluster_url, self.node_id, cls=self.cluster_class, parent=self
        )
        self.rooms = RoomManager(self.store, config, on_edit=self.audit.edit, bus=self.cluster)
        self.documents = DocumentService(
            self.store,
            self.rooms,
            access,
            self.audit,
            max_documents_per_user=self.max_documents_per_user,
            trash_retention_days=self.trash_retention_days,
        )
        self.trash_purger = TrashPurger(self.documents)
        self.sharing = SharingService(
            self.documents,
            access,
            self.rooms,
            max_shares_per_document=self.max_shares_per_document,
            principals=principals_for(
                getattr(self.serverapp, "identity_provider", None), self.users
            ),
        )
        policy = VersionPolicy(idle=self.auto_version_idle, interval=self.auto_version_interval)
        self.versions = VersionService(
            self.documents, self.store, self.rooms, policy, directory=self.users
        )
        self.comments = CommentService(
            self.documents, self.store, self.audit, CommentEvents(self.rooms)
        )
        self.mentions = self._mention_notifier()
        self.comments.mentions = self.mentions
        self.settings.update({SETTINGS_KEY: self, USERS_SETTING: self.users})
        self.log.info(
            "collab-docs node %s, documents in %s, cluster bus %s",
            self.node_id,
            without_credentials(self.store_url),
            self.cluster.status().get("url", self.cluster.backend),
        )

    def _mention_notifier(self) -> MentionNotifier:
        mailer = None
        if self.smtp_host and self.mail_address_template:
            settings = SmtpSettings(
                self.smtp_host,
                self.smtp_port,
                self.mail_from,
                self.smtp_security,
                self.smtp_username,
                self.smtp_password,
                self.smtp_timeout,
            )
            mailer = Mailer(settings)
        link_base = self.public_url or getattr(self.serverapp, "connection_url", "")
        people = people_for(
            getattr(self.serverapp, "identity_provider", None), self.users, self.admin_users
        )
        return MentionNotifier(
            self.documents,
            self.store,
            self.audit,
            people,
            mailer=mailer,
            address_template=self.mail_address_template,
            link_base=link_base if link_base.endswith("/") else link_base + "/",
        )

    def initialize_handlers(self) -> None:
        self.handlers.extend(handlers())
        assert self.serverapp is not None
        scrub_link_tokens(self.serverapp.web_app)
        authorizer = self.serverapp.authorizer
        if isinstance(authorizer, CollabDocsAuthorizer):  # the standalone server
            authorizer.confine(self.serverapp.web_app)
            hide_server_token(self.serverapp.web_app)
            own_workspaces(self.serverapp.web_app)
            limit_request_sizes(self.serverapp, self.max_body_size, self.max_message_size)

    @property
    def standalone(self) -> bool:
        """Whether this is the standalone server (``jupyter collab-docs``, or a server
        configured like it): non-administrators are confined to collab-docs."""
        # (A server being built has no authorizer yet.)
        return isinstance(getattr(self.serverapp, "authorizer", None), CollabDocsAuthorizer)

    async def _start_jupyter_server_extension(self, serverapp: Any) -> None:
        # Called by Jupyter Server on its event loop once it runs, which is after the
        # server listens: requests of the first moments wait for it (wait_started).
        http_server = getattr(serverapp, "_http_server", None)  # none in pytest-jupyter
        if self.standalone and http_server is not None:
            set_timeouts(http_server, self.header_timeout, self.body_timeout)
        step = f"the document store ({self.store_url})"
        try:
            await self.store.start()
            step = f"the audit trail ({', '.join(self.audit_sinks) or 'no sinks'})"
            await self.audit.start()
            step = f"the cluster bus ({self.cluster_url or 'local'})"
            await self.cluster.start()
            step = "the rooms"
            self.rooms.start()
            self.versions.start()
            self.trash_purger.start()
        except BaseException as exc:
            self._start_error = exc
            self.fail(f"{step} did not start: {describe(exc)}")  # standalone: exits
            raise
        finally:
            self._started.set()

    _started = Instance(asyncio.Event, args=())
    _start_error: BaseException | None = None
    # Set when the node is told to stop (SIGTERM): the readiness probe fails from then on.
    draining = False

    @property
    def started(self) -> bool:
        """Whether the services started (and did not fail to)."""
        return self._started.is_set() and self._start_error is None

    async def wait_started(self, timeout: float = 30.0) -> None:
        """Return once the services have started; raise StartError if they failed to, or
        are still starting after ``timeout`` seconds."""
        if not self._started.is_set():
            try:
                await asyncio.wait_for(self._started.wait(), timeout)
            except asyncio.TimeoutError:
                raise StartError("collab-docs is still starting; retry shortly") from None
        if self._start_error is not None:
            reason = without_credentials(repr(self._start_error))
            raise StartError(f"collab-docs failed to start: {reason}")

    async def stop_extension(self) -> None:
        # In dependency order; a service that never started (a failed start-up) is skipped,
        # so the server still stops.
        # Waiting on backends is bounded as a whole: a store that is down must not keep
        # the process from exiting (what is left unwritten is logged; clients resend it).
        # Draining (docs/cluster.md): Jupyter Server closed the listening socket already,
        # so no new connection arrives; readiness fails from here on, then the rooms close
        # their sockets with 1001 (clients reconnect at once, through a load balancer to
        # another node) and flush.
        self.draining = True
        deadline = time.monotonic() + self.shutdown_flush_timeout
        for name in ("trash_purger", "versions", "rooms", "cluster", "audit", "store"):
            service = getattr(self, name, None)
            if service is None:
                continue
            if name == "rooms":
                await service.close(flush_timeout=self.shutdown_flush_timeout)
                continue
            try:
                await asyncio.wait_for(
                    service.close(), max(deadline - time.monotonic(), LAST_CLOSE_WAIT)
                )
            except asyncio.TimeoutError:
                self.log.error("collab-docs: the %s did not close in time; stopping anyway", name)
        for name in ("mentions", "users", "access_db"):  # mentions: mail not yet sent goes
            service = getattr(self, name, None)
            if service is not None:
                service.close()

    # -- identity -------------------------------------------------------------------------

    #: How long an actor (user record and groups) may be served from ``_actors``: the
    #: window of the directory's token cache, and never longer than the socket re-check.
    ACTOR_CACHE_SECONDS = AccessDirectory.CACHE_SECONDS

    async def actor_for(self, user: User, fresh: bool = False) -> Actor:
        """The actor behind a Jupyter user: administrator flag and groups included.

        Standalone, the user's record and groups are one access-database look-up, kept
        for at most ``min(ACTOR_CACHE_SECONDS, revalidate_interval)`` and only while this
        process has committed no write to that database (``users``/``groups`` changes
        made here, shares, tokens); ``fresh`` (a socket's re-check) always looks again.
        Another process's change (the CLI) is seen once the window passed, as with the
        token cache; who the credentials name is the identity provider's, not cached here.
        """
        assert self.serverapp is not None
        provider = self.serverapp.identity_provider
        if isinstance(provider, CollabDocsIdentityProvider):
            key = (user.username, user.display_name, user.color)
            writes = self.access_db.write_count()
            now = time.monotonic()
            window = min(self.ACTOR_CACHE_SECONDS, self.revalidate_interval)
            hit = self._actors.get(key)
            if not fresh and writes is not None and hit is not None:
                at, counted, actor = hit
                if counted == writes and now - at < window:
                    return actor
            record, groups = await self.users.profile(user.username)
            is_admin = (record is not None and record.is_admin) or (
                user.username == provider.admin_username and record is None
            )
            display = record.display_name if record else user.display_name
            actor = Actor.create(
                user.username, display, color=user.color, is_admin=is_admin, groups=groups
            )
            if writes is not None:
                if len(self._actors) > 10_000:
                    self._actors.clear()
                self._actors[key] = (now, writes, actor)
            return actor
        # Under JupyterHub the user model carries the hub user: groups and scopes.
        hub_user = getattr(user, "hub_user", None) or {}
        groups = frozenset(hub_user.get("groups") or ())
        if self.admin_users is not None:
            is_admin = user.username in self.admin_users
        elif hub_user:
            is_admin = self.hub_admin_scope in (hub_user.get("scopes") or ())
        else:
            # A personal server: whoever holds its token or password owns it.
            is_admin = type(provider).__module__.startswith(IdentityProvider.__module__)
        return Actor.create(
            user.username,
            user.display_name,
            initials=user.initials,
            color=user.color,
            is_admin=is_admin,
            groups=groups,
        )


main = launch_new_instance = CollabDocsApp.launch_instance
