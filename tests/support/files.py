"""Frozen portal pages (tests/files, described in tests/files/README.md) as the responses a spider gets.

    fixture_response("trs_list_index.html", "http://www.qinglan.gov.cn/zwgk/zfxxgk/zfxxgknb/", xxgk_role="column")

gives the Scrapy response the portal would have served for that URL: the response class Scrapy would pick
(HtmlResponse, XmlResponse, JsonResponse), the file's bytes as they are (a GBK page stays GBK, its own
<meta> declares the charset), and a Request carrying `meta`. A spider callback's own request (a pagination
or attachment request it yielded) can be answered instead with `request=`.
"""

from __future__ import annotations

from pathlib import Path

from scrapy.http import Request, Response
from scrapy.responsetypes import responsetypes

FILES = Path(__file__).resolve().parents[1] / "files"

# What the portals' servers send: static pages without a charset (the page's <meta> says it), the APIs with one.
CONTENT_TYPES = {
    ".html": "text/html",
    ".htm": "text/html",
    ".shtml": "text/html",
    ".json": "application/json;charset=UTF-8",
    ".xml": "text/xml;charset=UTF-8",
}


def fixture_bytes(name: str) -> bytes:
    return (FILES / name).read_bytes()


def fixture_response(
    name: str,
    url: str,
    *,
    request: Request | None = None,
    headers: dict[str, str] | None = None,
    status: int = 200,
    **meta,
) -> Response:
    """tests/files/<name> served at `url`, answering `request` (or a GET of `url` with `meta`)."""
    body = fixture_bytes(name)
    sent = {"Content-Type": CONTENT_TYPES[Path(name).suffix], **(headers or {})}
    if request is None:
        request = Request(url, meta=meta)
    elif meta:
        request.meta.update(meta)
    cls = responsetypes.from_args(headers=sent, url=url, body=body)
    return cls(url=url, body=body, headers=sent, status=status, request=request)


def served_response(request: Request, body: bytes, content_type: str, **headers: str) -> Response:
    """Any other body answering a spider's request (an attachment's bytes, say)."""
    sent = {"Content-Type": content_type, **headers}
    cls = responsetypes.from_args(headers=sent, url=request.url, body=body)
    return cls(url=request.url, body=body, headers=sent, request=request)
