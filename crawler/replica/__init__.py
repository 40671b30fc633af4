"""Replica portals: one local server replaying each CMS family as real portals serve it, with reports built from
the seeds' figures (and variants over years) as HTML, PDF, DOCX and DOC. Used by `xxgk demo`, the tests and the
benchmark; nothing here reads ../shared at run time."""

from crawler.replica.server import ReplicaServer

__all__ = ["ReplicaServer"]
