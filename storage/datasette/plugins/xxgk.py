"""The xxgk Datasette plugin: the newsroom pages (storage/datasette/pages.py), Chinese search, originals named
for filing, screenshots served as images, feeds, Excel CSV, charts, and Chinese values in Datasette's tables.

Loaded with `datasette --plugins-dir storage/datasette/plugins` (xxgk serve does this).
"""

from __future__ import annotations

import mimetypes

from datasette import hookimpl
from datasette.utils.asgi import AsgiFileDownload, NotFound, Response
from markupsafe import Markup, escape

from storage import newsroom
from storage.datasette import feeds, labels, pages
from storage.datasette.charts import COLOURS, bar_chart, share_chart
from storage.search import fts_query
from storage.store import DocumentStore, store_dir_for

ORIGINAL_PREFIX = "/-/original/"
_ORIGINAL_COLUMNS = {"original", "link", "evidence", "previous_original", "new_original"}
_VIEWS = {"report_summary", "cell_values"}
# Extensions for the download name, by the format sniffed at ingest.
_EXTENSIONS = {"text": "txt", "html": "html", "binary": "bin", "empty": "bin"}
MMAP_BYTES = 2**31 - 2**16  # SQLite's default ceiling
SANDBOX = {"x-content-type-options": "nosniff", "content-security-policy": "sandbox"}


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
        label = "截图" if column == "evidence" else "原件"
        return Markup(f'<a href="{escape(datasette.urls.path(value))}">{label}</a>')
    if column == "report_id" and isinstance(value, int) and (table is None or table in _VIEWS):
        return Markup(f'<a href="{escape(datasette.urls.path(f"/-/report/{value}"))}">{value}</a>')
    words = labels.VALUE_LABELS.get(column, {}).get(value) if isinstance(value, str) else None
    if words:  # Chinese first; the code stays as the tooltip and in the data (?_format=json, CSV)
        return Markup(f'<span title="{escape(value)}">{escape(words)}</span>')
    if column in labels.TIME_COLUMNS and isinstance(value, str) and value.endswith("Z"):
        return Markup(f'<span title="{escape(value)}">{escape(labels.beijing(value, seconds=True))}</span>')
    return None


@hookimpl
def register_routes():
    return [
        (r"^/$", pages.front),
        (r"^/-/deadlines$", pages.deadlines),
        (r"^/-/inconsistent$", pages.inconsistent),
        (r"^/-/report/(?P<report_id>\d+)$", pages.report),
        (r"^/-/agency$", pages.agency),
        (r"^/-/changes$", pages.changes),
        (r"^/-/changes/(?P<report_id>\d+)/(?P<version>\d+)$", pages.change),
        (r"^/-/search$", pages.search),
        (r"^/-/feeds/(?P<kind>late|inconsistent|changed)\.atom$", feed),
        (r"^/-/csv/(?P<kind>deadlines|inconsistent|changes|reports)\.csv$", excel_csv),
        (r"^/-/original/(?P<sha256>[0-9a-f]{64})$", original),
        (r"^/-/report-of/(?P<sha256>[0-9a-f]{64})$", report_of),
        (r"^/-/screenshot/(?P<sha256>[0-9a-f]{64})$", screenshot),
        (r"^/-/charts$", charts),
    ]


@hookimpl
def menu_links(datasette):
    return [
        {"href": datasette.urls.path("/"), "label": "首页：五个问题"},
        {"href": datasette.urls.path("/-/charts"), "label": "图表"},
        {"href": datasette.urls.path(f"/{pages.archive_db(datasette).name}"), "label": "数据库（高级）/ Database"},
    ]


def _store_path(datasette, sha: str):
    path = DocumentStore(store_dir_for(pages.archive_db(datasette).path)).path_of(sha)
    if not path.exists():
        raise NotFound("the archived file is missing from the document folder")
    return path


async def original(request, datasette):
    """Serve an archived original by its sha256, as a download named 机关_年度_报告.ext (never rendered as our
    own page)."""
    sha = request.url_vars["sha256"]
    row = await pages.q(datasette, newsroom.original_name, sha)
    if row is None:
        raise NotFound("no archived document with that sha256")
    path = _store_path(datasette, sha)
    content_type = (row["content_type"] or "").split(";")[0].strip() or mimetypes.types_map.get(
        f".{row['format']}", "application/octet-stream"
    )
    ext = _EXTENSIONS.get(row["format"], row["format"] or "bin")
    if content_type.startswith("image/"):
        ext = (mimetypes.guess_extension(content_type) or ".img").lstrip(".")
    name = pages.download_name(row["agency"], row["year"], ext) if row["agency"] else f"{sha}.{ext}"
    return AsgiFileDownload(
        path,
        content_type=content_type,
        headers={**SANDBOX, "content-disposition": pages.content_disposition(name)},
    )


async def report_of(request, datasette):
    """The report page of an archived original (alert messages link here: they know the original's sha256)."""
    report_id = await pages.q(datasette, newsroom.report_of, request.url_vars["sha256"])
    if report_id is None:
        raise NotFound("no report with that original")
    return Response.redirect(f"/-/report/{report_id}")


async def screenshot(request, datasette):
    """An evidence screenshot shown inline as an image: only stored images kept as evidence, still sandboxed."""
    sha = request.url_vars["sha256"]
    row = await pages.q(datasette, newsroom.image_document, sha)
    if row is None:
        raise NotFound("no screenshot with that sha256")
    return AsgiFileDownload(
        _store_path(datasette, sha),
        content_type=row["content_type"].split(";")[0].strip(),
        headers={**SANDBOX, "content-disposition": "inline", "cache-control": "max-age=86400"},
    )


async def feed(request, datasette):
    kind = request.url_vars["kind"]
    province = request.args.get("province", "")
    base = pages.public_url(request)
    rows = await pages.q(datasette, feeds.feed_rows, kind, province)
    self_url = f"{base}{request.path}" + (f"?{request.query_string}" if request.query_string else "")
    return Response(
        feeds.atom(kind, rows, base, self_url, province),
        content_type="application/atom+xml; charset=utf-8",
    )


async def excel_csv(request, datasette):
    kind = request.url_vars["kind"]
    year = pages._int(request.args.get("year"))
    province = request.args.get("province", "")
    base = pages.public_url(request)
    header, rows = await pages.q(datasette, feeds.csv_rows, kind, year, province, base)
    name = f"{kind}_{year or '全部年度'}{('_' + province) if province else ''}.csv"
    return Response(
        feeds.csv_bytes(header, rows),
        content_type="text/csv; charset=utf-8",
        headers={"content-disposition": pages.content_disposition(name)},
    )


def _by(rows: list[dict], key: str) -> dict:
    out: dict = {}
    for r in rows:
        out.setdefault(r[key], {})[r["status"]] = r["n"]
    return out


async def charts(request, datasette):
    f = await pages._filters(request, datasette)
    by_year = _by(await pages.q(datasette, newsroom.outcomes_by_year), "year")
    by_province = _by(await pages.q(datasette, newsroom.outcomes_by_province, f["year"]), "province")

    def rate(counts: dict) -> float | None:
        due = sum(counts.get(s, 0) for s in newsroom.DUE)
        return round(100 * counts.get("on_time", 0) / due, 1) if due else None

    years = sorted(by_year)
    provinces = sorted(by_province, key=lambda p: (-(rate(by_province[p]) or 0), p))
    year_q = "all" if f["year"] is None else f["year"]
    names = {k: labels.status_label(k) for k in COLOURS}
    figures = [
        bar_chart("按年度的按时发布率（%，只计已到期的）", [(f"{y}年度", rate(by_year[y])) for y in years], unit="%",
                  maximum=100, links=[f"/-/deadlines?year={y}" for y in years]),
        share_chart("按年度的发布结果", [(f"{y}年度", by_year[y]) for y in years], names,
                    [f"/-/deadlines?year={y}" for y in years]),
        bar_chart(f"按省份的按时发布率（%，{f['year'] or '全部'}年度）", [(p, rate(by_province[p])) for p in provinces],
                  unit="%", maximum=100, links=[f"/-/deadlines?year={year_q}&province={p}" for p in provinces]),
        share_chart(f"按省份的发布结果（{f['year'] or '全部'}年度）", [(p, by_province[p]) for p in provinces], names,
                    [f"/-/deadlines?year={year_q}&province={p}" for p in provinces]),
    ]
    return await pages.render(
        datasette, request, "xxgk_charts.html", title="图表：按时发布率与发布结果", filters=f,
        figures=[Markup(svg) for svg in figures],
    )
