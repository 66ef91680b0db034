"""The test servers themselves, through real clients: MariaDB (PyMySQL), Redis (redis-py's
asyncio client) and Kafka (kafka-python), and the stop/start/kill/pause the failure tests use."""

from __future__ import annotations

import socket
import time
import uuid
from typing import Any
from urllib.parse import unquote, urlsplit

import pymysql
import pytest
import redis.asyncio as aioredis
from kafka import KafkaConsumer, KafkaProducer

from tests.servers.kafka import KafkaServer
from tests.servers.redis import RedisServer


def mysql_connect(url: str) -> Any:
    parts = urlsplit(url)
    return pymysql.connect(
        host=parts.hostname,
        port=parts.port or 3306,
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        database=parts.path.lstrip("/"),
        charset="utf8mb4",
        autocommit=True,
    )


def test_mariadb_table_insert_select(mariadb_url: str) -> None:
    assert mariadb_url.startswith("mysql+pymysql://collab:")
    table = f"smoke_{uuid.uuid4().hex[:8]}"
    conn = mysql_connect(mariadb_url)
    try:
        with conn.cursor() as cur:
            cur.execute(
                f"CREATE TABLE {table} (id INT PRIMARY KEY AUTO_INCREMENT, body TEXT NOT NULL)"
                " ENGINE=InnoDB"
            )
            cur.executemany(
                f"INSERT INTO {table} (body) VALUES (%s)", [("hello",), ("naïve ✓ 🙂",)]
            )
            cur.execute(f"SELECT id, body FROM {table} ORDER BY id")
            assert cur.fetchall() == ((1, "hello"), (2, "naïve ✓ 🙂"))
            cur.execute("SELECT DATABASE(), @@character_set_database, VERSION()")
            database, charset, version = cur.fetchone()
            assert (database, charset) == ("collab", "utf8mb4")
            assert "MariaDB" in version
            cur.execute(f"DROP TABLE {table}")
    finally:
        conn.close()


async def test_redis_set_get_and_pubsub(redis_server: RedisServer) -> None:
    client = aioredis.Redis.from_url(redis_server.url)
    try:
        key = f"smoke:{uuid.uuid4().hex}"
        assert await client.set(key, b"value") is True
        assert await client.get(key) == b"value"

        pubsub = client.pubsub()
        await pubsub.subscribe("smoke-channel")
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1)
        assert message is None
        assert await client.publish("smoke-channel", b"update") == 1
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=5)
        assert message is not None
        assert (message["channel"], message["data"]) == (b"smoke-channel", b"update")
        await pubsub.aclose()
    finally:
        await client.aclose()


async def test_redis_stop_start_kill_pause(redis_server: RedisServer) -> None:
    client = aioredis.Redis.from_url(redis_server.url)
    try:
        await client.set("before-stop", b"1")
        redis_server.stop()
        assert not redis_server.running()
        with pytest.raises(aioredis.ConnectionError):
            await client.get("before-stop")
        redis_server.start()
        assert await client.ping() is True
        assert await client.get("before-stop") is None  # no persistence: a restart is empty

        redis_server.kill()
        with pytest.raises(aioredis.ConnectionError):
            await client.ping()
        redis_server.restart()
        assert await client.ping() is True

        redis_server.pause(1)
        started = time.monotonic()
        assert await client.set("after-pause", b"2") is True
        assert time.monotonic() - started > 0.7
    finally:
        await client.aclose()
        redis_server.ensure_running()


def produce(bootstrap: str, topic: str, *values: bytes) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=0)
    try:
        for value in values:
            producer.send(topic, value).get(timeout=30)
    finally:
        producer.close()


def consume(bootstrap: str, topic: str, count: int, group: str | None = None) -> list[bytes]:
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=30_000,
    )
    try:
        values = []
        for record in consumer:
            values.append(record.value)
            if len(values) == count:
                break
        if group is not None:
            consumer.commit()
        return values
    finally:
        consumer.close()


def test_kafka_produce_consume(kafka_server: KafkaServer) -> None:
    topic = f"smoke-{uuid.uuid4().hex[:8]}"
    produce(kafka_server.bootstrap, topic, b"one message")
    assert consume(kafka_server.bootstrap, topic, 1) == [b"one message"]


def test_kafka_stop_start_keeps_data(kafka_server: KafkaServer) -> None:
    topic = f"durable-{uuid.uuid4().hex[:8]}"
    produce(kafka_server.bootstrap, topic, b"first", b"second")
    assert consume(kafka_server.bootstrap, topic, 1, group="auditors") == [b"first"]

    kafka_server.stop()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", kafka_server.port), timeout=5)
    kafka_server.start()

    # the messages and the group's committed offset survived the restart
    assert consume(kafka_server.bootstrap, topic, 1, group="auditors") == [b"second"]
    produce(kafka_server.bootstrap, topic, b"third")
    assert consume(kafka_server.bootstrap, topic, 3) == [b"first", b"second", b"third"]
