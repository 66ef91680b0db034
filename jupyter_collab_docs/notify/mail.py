"""E-mail through a configured SMTP server, sent off the event loop.

A message is handed to one worker thread (``smtplib`` blocks) and the caller goes on: a
comment is saved and answered whatever the mail server does. A failure (refused, down,
slow past ``timeout``) is logged and counted, never raised to whoever caused the mail.
Past ``max_pending`` messages waiting, new ones are dropped (counted as failed) rather than
queued without end while the server is down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import smtplib
import ssl
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from email.message import EmailMessage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 25
    from_address: str = ""
    #: "starttls" (upgrade a plain connection), "ssl" (TLS from the start) or "" (none).
    security: str = ""
    username: str = ""
    password: str = ""
    timeout: float = 10.0


class Mailer:
    def __init__(self, settings: SmtpSettings, max_pending: int = 1000) -> None:
        self.settings = settings
        self.max_pending = max_pending
        #: What happened to the messages handed over: sent, failed (dropped included).
        self.counts = {"sent": 0, "failed": 0}
        self._pending = 0
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="collab-mail")

    def send(self, to: str, subject: str, text: str) -> None:
        """Send one plain-text message in the background; never raises, never blocks."""
        if self._pending >= self.max_pending:
            self.counts["failed"] += 1
            log.warning("mail to %s dropped: %d messages are waiting already", to, self._pending)
            return
        message = EmailMessage()
        message["From"] = self.settings.from_address
        message["To"] = to
        message["Subject"] = subject
        message.set_content(text)
        self._pending += 1
        future = self._executor.submit(self._deliver, message)
        loop = asyncio.get_running_loop()
        future.add_done_callback(lambda done: self._back_on(loop, done, to))

    def _back_on(self, loop: asyncio.AbstractEventLoop, done: Future[None], to: str) -> None:
        with contextlib.suppress(RuntimeError):  # a closed loop: the server stopped
            loop.call_soon_threadsafe(self._settled, done, to)

    def _settled(self, done: Future[None], to: str) -> None:
        self._pending -= 1
        exc = done.exception()
        if exc is None:
            self.counts["sent"] += 1
        else:
            self.counts["failed"] += 1
            log.warning("mail to %s failed: %s", to, exc)

    def _deliver(self, message: EmailMessage) -> None:
        s = self.settings
        smtp_class = smtplib.SMTP_SSL if s.security == "ssl" else smtplib.SMTP
        with smtp_class(s.host, s.port, timeout=s.timeout) as smtp:
            if s.security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if s.username:
                smtp.login(s.username, s.password)
            smtp.send_message(message)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
