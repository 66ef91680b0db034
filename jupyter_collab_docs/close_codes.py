"""The WebSocket close codes of the room socket: the public contract of docs/protocol.md
("Close codes"), in one place for the rooms, the socket handler and the update guard.

Kept free of imports, so any module can use it without pulling in the rooms.
"""

# Standard codes (RFC 6455).
CLOSE_GOING_AWAY = 1001  # the server is shutting down: reconnect
CLOSE_PROTOCOL_ERROR = 1002  # a malformed frame, or an update that could not be applied
CLOSE_UNSUPPORTED = 1003  # a text frame
CLOSE_INVALID_DATA = 1007  # a text frame or close reason that is not UTF-8

# Application codes: 4000 + the HTTP status they stand for.
CLOSE_NOT_AUTHENTICATED = 4401
CLOSE_ACCESS_CHANGED = 4403  # the authorizer refused, or the socket's role changed
CLOSE_NOT_FOUND = 4404
CLOSE_SLOW_READER = 4408  # the client did not read: its queue passed max_socket_backlog
CLOSE_DELETED = 4410
CLOSE_TOO_LARGE = 4413
CLOSE_RATE_LIMITED = 4429
CLOSE_LOAD_FAILED = 4500
