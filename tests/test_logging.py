"""The package's own log lines (``jupyter_collab_docs.*`` loggers) go through Jupyter's
formatter, with a level and a timestamp like every other line of the server log, so an
operator grepping for warnings and errors finds them."""

from __future__ import annotations

import re

from jupyter_collab_docs.testing import RawClient, StandaloneServer, eventually

# Jupyter's format: "[W 2026-12-02 08:20:11.642 ServerApp] message"
JUPYTER_LINE = re.compile(r"^\[([DIWEC]) \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} ([^\]]+)\] (.*)$")


async def test_package_warnings_carry_level_and_timestamp(standalone: StandaloneServer):
    alice = standalone.cli("users", "add", "alice")
    standalone.start()
    doc = standalone.request("POST", "documents", {"name": "d", "type": "file"}, token=alice)
    url = f"ws://127.0.0.1:{standalone.port}/api/collab-docs/rooms/{doc['id']}?token={alice}"
    client = await RawClient.connect(url)
    await client.recv()  # sync step 1: the socket joined the room
    await client.send(bytes([0, 2, 50, 1, 2]))  # says 50 bytes, carries 2
    assert await client.closed() == 1002

    def warning_lines() -> list[str]:
        text = standalone.log_path.read_text(errors="replace")
        return [line for line in text.splitlines() if "closing socket of alice" in line]

    await eventually(lambda: bool(warning_lines()), what="the malformed-frame warning")
    lines = standalone.log_path.read_text(errors="replace").splitlines()
    jupyter_own = [m for m in map(JUPYTER_LINE.match, lines) if m and m[2] == "ServerApp"]
    assert jupyter_own, "no line of Jupyter's own to compare with"
    [line] = warning_lines()
    match = JUPYTER_LINE.match(line)
    assert match, f"not in Jupyter's format: {line!r}"
    assert match[1] == "W"
    assert match[2] == "jupyter_collab_docs.handlers.rooms"
    assert match[3].startswith("closing socket of alice")
