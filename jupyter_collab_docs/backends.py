"""How a backend is plugged: one shape for every family (document store, access
database, cluster bus, audit sinks).

Each family has, in its own package:

* an abstract interface, a subclass of :class:`Backend` (``abc.ABC``); the families whose
  backends have options are traitlets configurables too (:class:`ConfigurableABCMeta`),
  so those options are traits: ``c.MongoDocumentStore.chunk_size = ...``;
* beside it, a :class:`Schemes` registry: the one place that knows which URL scheme
  names which built-in backend (imported only when used, so an unused driver is never
  loaded). The app's URL validators and factories ask it;
* a ``Type`` trait on :class:`~jupyter_collab_docs.app.CollabDocsApp` (``store_class``,
  ``access_database_class``, ``cluster_class``; ``audit_sink_classes`` per scheme) that,
  when set, overrides the registry's choice: a site plugs its own backend by
  configuration, like Jupyter Server's ``contents_manager_class``.

Every backend, built-in or plugged, is built the same way::

    backend = cls.from_url(url, node=node_id, parent=owner)

``url`` is the family's URL trait as configured (a plugged class decides what it
accepts), ``node`` this server node's ``node_id`` and ``parent`` the configurable that
owns the backend (the app; for an audit sink, the ``AuditTrail``), so a configurable
backend reads its traits from the server's configuration. :meth:`Backend.from_url`
calls ``cls(url=url, node=node, parent=parent)``; an interface or a built-in backend
whose constructor takes something else overrides it.
"""

from __future__ import annotations

import abc
import importlib
from dataclasses import dataclass
from typing import Any

from traitlets import MetaHasTraits


class ConfigurableABCMeta(abc.ABCMeta, MetaHasTraits):
    """The metaclass of an interface that is both abstract and a traitlets configurable."""


class Backend(abc.ABC):  # noqa: B024 (each family's interface holds the abstract methods)
    """Base of every backend interface: the one way a backend is built."""

    @classmethod
    def from_url(cls, url: str, *, node: str, parent: Any = None) -> Any:
        """The backend a URL names, for server node ``node``, owned by ``parent``."""
        return cls(url=url, node=node, parent=parent)  # type: ignore[call-arg]


@dataclass(frozen=True)
class Scheme:
    """URL prefixes served by one built-in backend."""

    prefixes: tuple[str, ...]
    target: str  # "package.module:Class", imported when first used
    example: str  # a valid URL, shown in error messages


class Schemes:
    """The URL schemes of one backend family, and which built-in backend serves each.

    ``trait`` is the app's URL trait (named in error messages) and ``class_trait`` the
    trait that plugs another backend. ``empty``, when given, is the backend of an empty
    URL (the cluster bus: one node). ``many``: the trait is a list of URLs."""

    def __init__(
        self,
        trait: str,
        class_trait: str,
        *schemes: Scheme,
        empty: str | None = None,
        many: bool = False,
    ) -> None:
        self.trait = trait
        self.class_trait = class_trait
        self.schemes = schemes
        self.empty = empty
        self.many = many

    @property
    def prefixes(self) -> tuple[str, ...]:
        """Every URL prefix the built-in backends take."""
        return tuple(p for s in self.schemes for p in s.prefixes)

    def target(self, url: str) -> str:
        """``module:Class`` of the built-in backend for ``url``; ValueError if none."""
        if not url and self.empty is not None:
            return self.empty
        for scheme in self.schemes:
            if url.startswith(scheme.prefixes):
                return scheme.target
        raise self.error(url)

    def check(self, url: str) -> str:
        """``url`` if a built-in backend takes its scheme; else ValueError."""
        self.target(url)
        return url

    def backend_class(self, url: str) -> type:
        """The built-in backend class for ``url`` (its module imported now)."""
        module, _, name = self.target(url).partition(":")
        return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]

    def build(self, url: str, plugged: type | None = None, *, node: str, parent: Any) -> Any:
        """The backend for ``url``: ``plugged`` if given, else the built-in one."""
        cls = plugged if plugged is not None else self.backend_class(url)
        return cls.from_url(url, node=node, parent=parent)  # type: ignore[attr-defined]

    def error(self, url: str) -> ValueError:
        """What is wrong with ``url``: the trait, the valid forms, an example."""
        scheme = url.split(":", 1)[0] if url else ""
        forms = [s.example for s in self.schemes]
        if self.empty is not None:
            forms.insert(0, '"" (empty)')
        example = self.schemes[0].example
        value = repr([example]) if self.many else repr(example)
        again = " (once per URL)" if self.many else ""
        return ValueError(
            f"unsupported {self.trait} scheme {scheme!r} in {url!r}: use "
            + " or ".join(forms)
            + f", for example c.CollabDocsApp.{self.trait} = {value} or, on the command"
            f" line, --CollabDocsApp.{self.trait}={example}{again} (another backend is"
            f" plugged with CollabDocsApp.{self.class_trait})"
        )
