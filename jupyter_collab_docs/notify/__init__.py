"""Telling people about things outside the document: e-mail through an SMTP server
(:mod:`.mail`). The inbox and the ``comment.mentioned`` event are in
``comments/mentions.py``."""

from __future__ import annotations

from .mail import Mailer, SmtpSettings

__all__ = ["Mailer", "SmtpSettings"]
