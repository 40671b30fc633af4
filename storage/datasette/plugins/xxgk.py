"""The xxgk Datasette plugin: Chinese search, one-click originals, and the charts page.

Loaded with `datasette --plugins-dir storage/datasette/plugins` (xxgk serve does this).
"""

from __future__ import annotations

import mimetypes

from datasette import hookimpl
from datasette.utils.asgi import AsgiFileDownload, NotFound, Response
from markupsafe import Markup, escape

from storage.datasette.charts import bar_chart
from storage.datasette.config import canned_queries
from storage.search import fts_query
from storage.store import DocumentStore, store_dir_for

ORIGINAL_PREFIX = "/-/original/"
_ORIGINAL_COLUMNS = {"original", "link", "evidence", "previous_original", "new_original"}
_VIEWS = {"report_summary", "cell_values"}
# Extensions for the download name, by the format sniffed at ingest.
_EXTENSIONS = {"text": "txt", "html": "html", "binary": "bin", "empty": "bin"}
MMAP_BYTES = 2**31 - 2**16  # SQLite's default ceiling


@hookimpl(trylast=True)
def prepare_connection(conn):
    # trylast: Datasette registers its own escape_fts; ours must win so the built-in search box
    # (?_search=) queries the bigram index the way storage.search wrote it.
    conn.create_function("xxgk_fts", 1, fts_query, deterministic=True)
    conn.create_function("escape_fts", 1, fts_query, deterministic=True)
    # Read pages straight from the OS page cache (shared by Datasette's threads) instead of copying
    # them into each connection's small private cache: whole-archive aggregates stay fast.
    conn.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")


@hookimpl
def render_cell(value, column, table, database, datasette):
    if column in _ORIGINAL_COLUMNS and isinstance(value, str) and value.startswith(ORIGINAL_PREFIX):
        label = "截图 / screenshot" if column == "evidence" else "原件 / original"
        return Markup(f'<a href="{escape(datasette.urls.path(value))}">{label}</a>')
    if column == "report_id" and isinstance(value, int) and (table is None or table in _VIEWS):
        return Markup(f'<a href="{escape(datasette.urls.table(database, "reports"))}/{value}">{value}</a>')
    return None


@hookimpl
def register_routes():
    return [
        (r"^/-/original/(?P<sha256>[0-9a-f]{64})$", original),
        (r"^/-/charts$", charts),
    ]


@hookimpl
def menu_links(datasette):
    return [{"href": datasette.urls.path("/-/charts"), "label": "图表 / Charts"}]


def _archive_database(datasette):
    for db in datasette.databases.values():
        if db.path and not db.is_memory:
            return db
    raise NotFound("no archive database is being served")


async def original(request, datasette):
    """Serve an archived original by its sha256, as a download (never rendered as our own page)."""
    sha = request.url_vars["sha256"]
    db = _archive_database(datasette)
    row = (await db.execute("SELECT format, content_type FROM documents WHERE sha256 = ?", [sha])).first()
    if row is None:
        raise NotFound("no archived document with that sha256")
    path = DocumentStore(store_dir_for(db.path)).path_of(sha)
    if not path.exists():
        raise NotFound("the archived file is missing from the document folder")
    content_type = (row["content_type"] or "").split(";")[0].strip() or mimetypes.types_map.get(
        f".{row['format']}", "application/octet-stream"
    )
    ext = _EXTENSIONS.get(row["format"], row["format"] or "bin")
    if content_type.startswith("image/"):
        ext = (mimetypes.guess_extension(content_type) or ".img").lstrip(".")
    return AsgiFileDownload(
        path,
        filename=f"{sha}.{ext}",
        content_type=content_type,
        headers={"x-content-type-options": "nosniff", "content-security-policy": "sandbox"},
    )


async def charts(request, datasette):
    db = _archive_database(datasette)
    queries = canned_queries()

    async def rows(name, **params):
        return (await db.execute(queries[name]["sql"], params)).rows

    by_year = await rows("ontime_by_year")
    by_province = await rows("ontime_by_province", year="")
    requests = await rows("requests_by_year")
    figures = [
        (
            "ontime_by_year",
            bar_chart(
                "按年度的按时发布率 / On-time rate by year (%)",
                [(r["year"], r["on_time_rate"]) for r in by_year],
                unit="%",
                maximum=100,
            ),
        ),
        (
            "ontime_by_province",
            bar_chart(
                "按省份的按时发布率 / On-time rate by province (%)",
                [(r["province"], r["on_time_rate"]) for r in by_province],
                unit="%",
                maximum=100,
            ),
        ),
        (
            "requests_by_year",
            bar_chart("按年度的新收申请 / New requests by year", [(r["year"], r["new_requests"]) for r in requests]),
        ),
    ]
    html = await datasette.render_template(
        "xxgk_charts.html",
        {"figures": [(Markup(svg), datasette.urls.query(db.name, name)) for name, svg in figures], "database": db.name},
        request=request,
    )
    return Response.html(html)
