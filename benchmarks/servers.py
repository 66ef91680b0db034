"""Launchers for the servers under test: ours ("collab-docs") and the peers.

Every server runs pinned to core 0 (the generator gets core 1), listens on
127.0.0.1 only, and is started fresh for each workload variant so that memory
and CPU figures are not polluted by the previous run.  A launcher also knows
how to create a room for a text document or a notebook, because each server
has its own way (URL path, REST call, session handshake, or nothing at all).
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
TOKEN = "bench-token"
SERVER_CORE = "0"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method: str, url: str, body=None, token: str | None = TOKEN, timeout=30):
    """Tiny JSON-over-HTTP helper for provisioning calls (loopback only)."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"token {token}")
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        raw = resp.read()
        return resp.status, (json.loads(raw) if raw else None)


class Server:
    """Base launcher: subclasses give the command line and room provisioning."""

    name = "?"
    protocol = "y-websocket"
    has_store = False  # can the document be cold-loaded after a restart?
    version = ""

    def __init__(self, workdir: Path):
        self.workdir = Path(workdir)
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.log_path = self.workdir / f"{self.name}.log"

    @classmethod
    def available(cls) -> str | None:
        """None if the server can run here, else the reason why not."""
        return None

    def command(self) -> list[str]:
        raise NotImplementedError

    def env(self) -> dict:
        return dict(os.environ)

    @property
    def pid(self) -> int:
        return self.proc.pid if self.proc else 0

    def start(self, timeout=60):
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            ["taskset", "-c", SERVER_CORE, *self.command()],
            cwd=self.workdir, env=self.env(), stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start; see {self.log_path}")
            if self.ready():
                return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.name} not ready after {timeout}s; see {self.log_path}")

    def ready(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def stop(self, grace=15):
        if not self.proc or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(grace)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def restart(self):
        """Stop and start again on the same port and data (for cold loads)."""
        self.stop()
        return self.start()

    # -- rooms ---------------------------------------------------------------
    def text_room(self, name: str, content: str = "") -> dict:
        raise NotImplementedError

    def notebook_room(self, name: str, nb_path: Path) -> tuple[dict, bool]:
        """Returns (room, needs_seeding): peers without a store get the notebook from a seeding client."""
        return self.text_room(name), True

    def reopen(self, room: dict) -> dict:
        """Room of an existing document after a restart (same unless the server embeds a session)."""
        return room


class YWebsocket(Server):
    """Reference Node server: y-websocket@1.5.4 bin/server.js, in-memory only."""

    name = "y-websocket"
    version = "y-websocket 1.5.4 (node)"

    @classmethod
    def available(cls):
        return None if (BENCH / "node_modules/y-websocket/bin/server.js").exists() else "run `make -C benchmarks setup`"

    def command(self):
        return ["node", str(BENCH / "node_modules/y-websocket/bin/server.js")]

    def env(self):
        return {**os.environ, "HOST": "127.0.0.1", "PORT": str(self.port)}

    def text_room(self, name, content=""):
        if content:
            raise ValueError("y-websocket rooms start empty")
        return {"url": f"ws://127.0.0.1:{self.port}/{name}"}


class Hocuspocus(Server):
    """@hocuspocus/server 3.4.4 without extensions (no persistence); one endpoint, document name in every message."""

    name = "hocuspocus"
    protocol = "hocuspocus"
    version = "@hocuspocus/server 3.4.4 (node)"

    @classmethod
    def available(cls):
        return None if (BENCH / "node_modules/@hocuspocus/server").exists() else "run `make -C benchmarks setup`"

    def command(self):
        return ["node", str(BENCH / "generator/hocuspocus-server.js")]

    def env(self):
        return {**os.environ, "PORT": str(self.port)}

    def text_room(self, name, content=""):
        if content:
            raise ValueError("hocuspocus documents start empty")
        return {"url": f"ws://127.0.0.1:{self.port}", "docName": name}


# -- persistent Node peers ---------------------------------------------------
HELPER_CORE = "1"  # the generator's core: helper clients stay off the server's core
STORE_SETTLE_S = 3.0  # after the last client left, time for a store's pending write (as workloads.cold_load)


def persist_helper(mode: str, room: dict, protocol: str, arg: str, workdir: Path, timeout=300) -> dict:
    """Run generator/persist-check.js (write, seed or read one room); returns its JSON answer."""
    room_path = Path(workdir) / f"persist-{mode}-room.json"
    room_path.write_text(json.dumps(room))
    done = subprocess.run(["taskset", "-c", HELPER_CORE, "node", str(BENCH / "generator/persist-check.js"), mode,
                           str(room_path), protocol, arg], capture_output=True, text=True, timeout=timeout)
    lines = done.stdout.strip().splitlines()
    try:
        return json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        return {"ok": False, "error": f"persist-check.js {mode} exited {done.returncode}: {done.stderr.strip()[-300:]}"}


class SeededStore:
    """Mixin of peers whose store is filled through the protocol (no upload API): the
    notebook is written by a client, then given time to reach the store, so that the
    join workload's restart makes the anchor's join a real cold load."""

    def notebook_room(self, name, nb_path):
        room = self.text_room(name)
        seeded = persist_helper("seed", room, self.protocol, str(nb_path), self.workdir)
        if not seeded.get("ok"):
            raise RuntimeError(f"{self.name}: seeding the notebook failed: {seeded.get('error')}")
        time.sleep(STORE_SETTLE_S)
        return room, False


class YWebsocketLevelDB(SeededStore, YWebsocket):
    """y-websocket@1.5.4 bin/server.js with its own LevelDB persistence (YPERSISTENCE=<dir>,
    y-leveldb 0.1.2): every update is appended to LevelDB as it arrives."""

    name = "y-websocket-leveldb"
    has_store = True
    version = "y-websocket 1.5.4 + y-leveldb 0.1.2, YPERSISTENCE (node)"

    @classmethod
    def available(cls):
        return YWebsocket.available() or (None if (BENCH / "node_modules/y-leveldb").exists() else "run `make -C benchmarks setup`")

    def env(self):
        return {**super().env(), "YPERSISTENCE": str(self.workdir / "leveldb")}


class HocuspocusSQLite(SeededStore, Hocuspocus):
    """@hocuspocus/server 3.4.4 with @hocuspocus/extension-sqlite 3.4.4 on a file: the whole
    document state is written on Hocuspocus's debounced store (2 s, at most 10 s, and when
    the last client leaves)."""

    name = "hocuspocus-sqlite"
    has_store = True
    version = "@hocuspocus/server 3.4.4 + @hocuspocus/extension-sqlite 3.4.4 (node)"

    @classmethod
    def available(cls):
        ok = (BENCH / "node_modules/@hocuspocus/extension-sqlite").exists() and Hocuspocus.available() is None
        return None if ok else "run `make -C benchmarks setup`"

    def command(self):
        return ["node", str(BENCH / "generator/hocuspocus-sqlite-server.js")]

    def env(self):
        return {**super().env(), "SQLITE_DB": str(self.workdir / "hocuspocus.sqlite")}


class JupyterServerYdoc(Server):
    """jupyter-server-ydoc 3.0.4 (the jupyter-collaboration backend) on a temp root dir.

    Rooms need a session first: PUT /api/collaboration/session/<path> gives a
    fileId, the room is /api/collaboration/room/<format>:<type>:<fileId>.
    """

    name = "jupyter-server-ydoc"
    has_store = True
    version = "jupyter-server-ydoc 3.0.4 (python)"
    venv = BENCH / ".venv-peers"

    @classmethod
    def available(cls):
        return None if (cls.venv / "bin/jupyter").exists() else "run `make -C benchmarks setup`"

    def command(self):
        root = self.workdir / "root"
        root.mkdir(parents=True, exist_ok=True)
        return [str(self.venv / "bin/jupyter"), "server", "--no-browser", f"--port={self.port}",
                "--ip=127.0.0.1", f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={root}",
                "--ServerApp.port_retries=0", "--ServerApp.allow_root=True", "--ServerApp.log_level=WARN"]

    def env(self):
        home = self.workdir / "jupyter"
        for sub in ("config", "data", "runtime"):
            (home / sub).mkdir(parents=True, exist_ok=True)
        return {**os.environ, "JUPYTER_CONFIG_DIR": str(home / "config"), "JUPYTER_DATA_DIR": str(home / "data"),
                "JUPYTER_RUNTIME_DIR": str(home / "runtime"), "JUPYTER_PLATFORM_DIRS": "1"}

    def ready(self):
        try:
            return http("GET", f"http://127.0.0.1:{self.port}/api/status", timeout=1)[0] == 200
        except OSError:
            return False

    def _room(self, path: str, fmt: str, typ: str) -> dict:
        _, s = http("PUT", f"http://127.0.0.1:{self.port}/api/collaboration/session/{path}", {"format": fmt, "type": typ})
        return {"url": f"ws://127.0.0.1:{self.port}/api/collaboration/room/{fmt}:{typ}:{s['fileId']}"
                       f"?sessionId={s['sessionId']}&token={TOKEN}", "session": [path, fmt, typ]}

    def reopen(self, room):
        # the room URL embeds a per-process session id: ask for a new one
        return self._room(*room["session"])

    def text_room(self, name, content=""):
        (self.workdir / "root" / f"{name}.txt").write_text(content)
        return self._room(f"{name}.txt", "text", "file")

    def notebook_room(self, name, nb_path):
        shutil.copy(nb_path, self.workdir / "root" / f"{name}.ipynb")
        return self._room(f"{name}.ipynb", "json", "notebook"), False


class CollabDocs(Server):
    """OUR server.  Flags and REST shape may still change: keep them in this class only."""

    name = "collab-docs"
    has_store = True
    version = "jupyter-collab-docs (this repo)"
    jupyter = REPO / ".venv/bin/jupyter"

    @classmethod
    def available(cls):
        if not cls.jupyter.exists():
            return f"{cls.jupyter} not found (install the project into the repository's .venv)"
        probe = subprocess.run([str(cls.jupyter), "collab-docs", "--help"], capture_output=True, timeout=60)
        return None if probe.returncode == 0 else "`jupyter collab-docs` is not available yet"

    def command(self):
        data = self.workdir / "data"
        data.mkdir(parents=True, exist_ok=True)
        return [str(self.jupyter), "collab-docs", "--no-browser", f"--port={self.port}", "--ip=127.0.0.1",
                f"--ServerApp.token={TOKEN}", f"--CollabDocsApp.data_dir={data}", "--ServerApp.port_retries=0",
                "--ServerApp.allow_root=True"]

    def env(self):
        return JupyterServerYdoc.env(self)

    def ready(self):
        return JupyterServerYdoc.ready(self)

    def _create(self, name, typ, content):
        status, body = http("POST", f"http://127.0.0.1:{self.port}/api/collab-docs/documents",
                            {"name": name, "type": typ, "content": content})
        if status != 201:
            raise RuntimeError(f"collab-docs: POST documents -> {status}")
        return {"url": f"ws://127.0.0.1:{self.port}/api/collab-docs/rooms/{body['id']}?token={TOKEN}"}

    def text_room(self, name, content=""):
        return self._create(name, "file", content)

    def notebook_room(self, name, nb_path):
        return self._create(name, "notebook", json.loads(Path(nb_path).read_text())), False


class CollabDocsNode(CollabDocs):
    """One node of a collab-docs cluster: a shared data dir (access database), a shared
    store (``store_url``, or the data dir's SQLite file) and a Redis bus (``cluster_url``,
    or none: a plain single server)."""

    def __init__(self, workdir: Path, data_dir: Path, node_id: str, store_url: str = "", cluster_url: str = ""):
        super().__init__(workdir)
        self.data_dir, self.node_id = Path(data_dir), node_id
        self.store_url, self.cluster_url = store_url, cluster_url
        self.log_path = self.workdir / f"{node_id}.log"

    def command(self):
        self.data_dir.mkdir(parents=True, exist_ok=True)
        cmd = [str(self.jupyter), "collab-docs", "--no-browser", f"--port={self.port}", "--ip=127.0.0.1",
               f"--ServerApp.token={TOKEN}", f"--CollabDocsApp.data_dir={self.data_dir}", "--ServerApp.port_retries=0",
               "--ServerApp.allow_root=True", f"--CollabDocsApp.node_id={self.node_id}"]
        if self.store_url:
            cmd.append(f"--CollabDocsApp.store_url={self.store_url}")
        if self.cluster_url:
            cmd.append(f"--CollabDocsApp.cluster_url={self.cluster_url}")
        return cmd

    def room_url(self, doc_id: str) -> str:
        return f"ws://127.0.0.1:{self.port}/api/collab-docs/rooms/{doc_id}?token={TOKEN}"


class Helper:
    """A private Redis or FerretDB started by the project's own scripts
    (scripts/servers/{redis,ferretdb}.sh), pinned to the server core like the nodes.
    The scripts stop it if this process dies (COLLAB_DOCS_OWNER_PID)."""

    def __init__(self, script: str, directory: Path):
        self.script = REPO / "scripts/servers" / script
        self.dir = Path(directory)
        self.port = 0

    def _run(self, *args, timeout=120):
        env = {**os.environ, "COLLAB_DOCS_OWNER_PID": str(os.getpid())}
        done = subprocess.run(["taskset", "-c", SERVER_CORE, "bash", str(self.script), *args], env=env,
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"{self.script.name} {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()[-300:]}")
        return done.stdout.strip()

    def start(self):
        self.port = free_port()
        self._run("start", str(self.dir), str(self.port))
        return self

    def stop(self):
        if self.port:
            self._run("stop", str(self.dir))

    @property
    def pid(self) -> int:
        try:
            return int((self.dir / "server.pid").read_text())
        except (OSError, ValueError):
            return 0


def ferretdb_binary() -> Path | None:
    out = subprocess.run(["bash", str(REPO / "scripts/servers/ferretdb.sh"), "path"], capture_output=True, text=True)
    path = Path(out.stdout.strip()) if out.returncode == 0 and out.stdout.strip() else None
    return path if path and os.access(path, os.X_OK) else None


class CollabDocsCluster:
    """``nodes`` collab-docs processes sharing one store and (for more than one node) one
    Redis bus; every process (nodes, Redis, FerretDB) pinned to the server core.

    Store: MongoDB via a private FerretDB (scripts/servers/ferretdb.sh) when it is built,
    else the shared SQLite file of the common data dir. The 1-node variant uses the same
    store and no bus (the plain server), so the comparison shows what the cluster costs.
    Only our server has a cluster mode.
    """

    name = CollabDocs.name
    protocol = "y-websocket"
    has_store = True
    version = CollabDocs.version

    def __init__(self, workdir: Path, nodes: int, store: str = "auto"):
        self.workdir = Path(workdir)
        self.count = nodes
        self.store = store if store != "auto" else ("mongodb" if ferretdb_binary() else "sqlite")
        self.redis: Helper | None = None
        self.ferretdb: Helper | None = None
        self.nodes: list[CollabDocsNode] = []

    @classmethod
    def available(cls) -> str | None:
        why = CollabDocs.available()
        if why:
            return why
        if not shutil.which("redis-server"):
            return "redis-server not found (scripts/servers/redis.sh install)"
        return None

    @property
    def pid(self) -> int:
        return self.nodes[0].pid if self.nodes else 0

    @property
    def pids(self) -> list[int]:
        return [n.pid for n in self.nodes]

    @property
    def aux_pids(self) -> list[int]:
        return [h.pid for h in (self.redis, self.ferretdb) if h is not None and h.pid]

    @property
    def store_desc(self) -> str:
        return "MongoDB wire protocol: FerretDB v1 (SQLite handler)" if self.store == "mongodb" else "shared SQLite file"

    def start(self):
        self.workdir.mkdir(parents=True, exist_ok=True)
        try:
            store_url = cluster_url = ""
            if self.store == "mongodb":
                self.ferretdb = Helper("ferretdb.sh", self.workdir / "ferretdb").start()
                store_url = f"mongodb://127.0.0.1:{self.ferretdb.port}/bench"
            if self.count > 1:
                self.redis = Helper("redis.sh", self.workdir / "redis").start()
                cluster_url = f"redis://127.0.0.1:{self.redis.port}/0"
            data = self.workdir / "data"
            self.nodes = [CollabDocsNode(self.workdir, data, f"node{i}", store_url, cluster_url) for i in range(self.count)]
            # the first node creates the schemas (access database, store indexes) alone
            self.nodes[0].start()
            for n in self.nodes[1:]:
                n.start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self):
        for n in self.nodes:
            n.stop()
        for h in (self.redis, self.ferretdb):
            if h is not None:
                try:
                    h.stop()
                except Exception as e:  # keep stopping the others
                    print(f"[bench] stopping {h.script.name}: {e}")

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def text_room(self, name: str, content: str = "") -> dict:
        """A document created on node 0; its room URL on every node (clients round robin)."""
        url = self.nodes[0].text_room(name, content)["url"]
        doc_id = url.split("/rooms/", 1)[1].split("?", 1)[0]
        return {"url": url, "urls": [n.room_url(doc_id) for n in self.nodes]}


ALL = {cls.name: cls for cls in (CollabDocs, YWebsocket, JupyterServerYdoc, Hocuspocus, YWebsocketLevelDB, HocuspocusSQLite)}
OURS = CollabDocs.name


def persistence_check(cls, workdir: Path) -> dict:
    """Start-up sanity of a server with a store: a client writes a token, the server is
    restarted on the same data, a client must read the token back.  {"ok": bool, ...};
    ``in_first_sync`` says whether the token was already in the server's first full sync."""
    token = f"persisted-{os.getpid()}-{time.time_ns()}"
    try:
        with cls(workdir) as srv:
            room = srv.text_room("persist-check")
            wrote = persist_helper("write", room, srv.protocol, token, srv.workdir, timeout=60)
            if not wrote.get("ok"):
                return {"ok": False, "error": f"write: {wrote.get('error')}"}
            time.sleep(STORE_SETTLE_S)
            srv.restart()
            got = persist_helper("read", srv.reopen(room), srv.protocol, token, srv.workdir, timeout=60)
    except Exception as e:  # a server that cannot start or provision fails the check
        return {"ok": False, "error": f"{type(e).__name__}: {e}"}
    if not got.get("ok"):
        got.setdefault("error", f"token not found after a restart (read {got.get('text', '')[:60]!r})")
    return got


def make_workdir(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=f"bench-{prefix}-"))
