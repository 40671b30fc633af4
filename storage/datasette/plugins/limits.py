"""Bounds on every Datasette connection and response (storage/datasette/limits.py says which and why).

Loaded with the xxgk plugin from `--plugins-dir storage/datasette/plugins` (xxgk serve does this).
"""

from __future__ import annotations

from datasette import hookimpl
from datasette.utils.asgi import Response

from storage.datasette.limits import HARD_HEAP_LIMIT, bound_connection, capped


@hookimpl
def prepare_connection(conn):
    bound_connection(conn)


@hookimpl
def asgi_wrapper(datasette):
    return capped


@hookimpl(tryfirst=True)
def handle_exception(datasette, request, exception):
    """SQLite's "out of memory" at the heap limit reaches Datasette as a MemoryError, which it would show as a
    bare 500: say what happened instead."""
    if not isinstance(exception, MemoryError):
        return None
    message = (
        f"the query needs more memory than this server gives one query (SQLite heap limit "
        f"{HARD_HEAP_LIMIT // (1024 * 1024)} MB): select fewer or shorter rows, or sort less"
    )
    if request.path.endswith(".json") or request.args.get("_shape"):
        return Response.json({"ok": False, "error": message, "status": 400, "title": "Query too large"}, status=400)
    return Response.text(message, status=400)
