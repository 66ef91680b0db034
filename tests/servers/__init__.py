"""Database servers the tests start (pytest plugins, one module per server)."""
