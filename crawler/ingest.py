"""The one write path: store the original → parse → run the in-document rules → archive.

    >>> from crawler.ingest import ingest
    >>> from crawler.model import IncomingDocument
    >>> with Archive("data/xxgk.db") as archive:
    ...     result = ingest(archive, IncomingDocument(pdf_bytes, url="https://…/2023nb.pdf", agency="某市人民政府"))

The crawler's archive workers, `xxgk import` and the benchmarks all come through here, with one
IncomingDocument each. `examine()` is the same parse-and-judge without the archive (`xxgk parse`).
`examined()`, `report_write()` and `document_write()` give the same writes as records for a group commit
(`archive.batch()`, storage/batch.py: many documents per transaction), which the crawl's workers use.

Every examination runs in a child process with a memory and a time limit (crawler/parsing/sandbox.py): a
document that would exhaust memory, hang or crash its reader ends as that document's ParseError
(`too_large`, `timeout`, `parser_error`) and is archived with it like any other failed parse.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from crawler.model import Finding, IncomingDocument, ParsedReport, ParseError
from crawler.parsing import meta, parse_bytes, read_file, sandbox, sniff
from crawler.rules import run_document_rules
from storage import Archive, DocumentRecord, IngestResult
from storage.records import DocumentWrite, ReportWrite
from storage.reports import PARSE_SCOPE


def examine(data: bytes, **parse_options: Any) -> ParsedReport:
    """Parse `data` and append the in-document rule results (sums, text against table, period) to its
    findings, in a bounded child process. Raises ParseError for a file that cannot yield a report, a
    reader bug (`parser_error`) included."""
    return sandbox.run(_examine, data, **parse_options)


def examine_file(path: str | Path, **parse_options: Any) -> ParsedReport:
    """examine() of a regular file of at most 200 MB (a device or a FIFO is refused, unread)."""
    return examine(read_file(path), **parse_options)


def _examine(data: bytes, **parse_options: Any) -> ParsedReport:
    report = parse_bytes(data, **parse_options)
    report.findings += run_document_rules(report)
    return report


def ingest(archive: Archive, doc: IncomingDocument, *, parse_options: Mapping[str, Any] | None = None) -> IngestResult:
    """Store, parse, judge and archive one document. A file that does not parse is kept with its reason."""
    options = {**page_images(archive, doc), **(parse_options or {})}
    return archive.reports.write(examined(doc, parse_options=options))


def page_images(archive: Archive, doc: IncomingDocument) -> dict[str, Any]:
    """For a 图片版 report page: the parse options that hand its body images, as archived (the crawler stores
    them before the page), to the HTML reader; {} for anything else."""
    if sniff(doc.data) != "html":
        return {}
    from crawler.parsing.readers.html import content_images

    images = {}
    for url in content_images(doc.data, doc.url):
        stored = archive.documents.known(url)
        if stored is not None and Path(stored.path).is_file():
            images[url] = Path(stored.path).read_bytes()
    return {"images": images, "page_url": doc.url} if images else {}


def ingest_parsed(
    archive: Archive, doc: IncomingDocument, parsed: ParsedReport | None, *, error: ParseError | None = None
) -> IngestResult:
    """ingest() for bytes already examined (or that failed with `error`): synthetic archives, re-parses."""
    return archive.reports.write(report_write(doc, parsed, error=error))


def examined(doc: IncomingDocument, *, parse_options: Mapping[str, Any] | None = None) -> ReportWrite:
    """What ingest() writes, without writing it: for a group commit (`archive.batch()`, storage/batch.py)."""
    try:
        parsed, error = examine(doc.data, **(parse_options or {})), None
    except ParseError as e:  # a reader bug too: the sandbox turns it into one
        parsed, error = None, e
    return report_write(doc, parsed, error=error)


def report_write(doc: IncomingDocument, parsed: ParsedReport | None, *, error: ParseError | None = None) -> ReportWrite:
    """The archive's record of an examined document: its format, the parse or its failure, the findings."""
    if (parsed is None) == (error is None):
        raise ValueError("give exactly one of parsed and error")
    failure = (error.reason, str(error)) if error else None
    return ReportWrite(doc, sniff(doc.data), parsed, failure, _archive_findings(doc, parsed, failure))


def store_document(archive: Archive, doc: IncomingDocument) -> DocumentRecord:
    """Keep a document for provenance only (a page that merely links its report, a rendition, a zip)."""
    return archive.documents.store_fetched(doc.data, sniff(doc.data), doc.url, doc.http)


def document_write(doc: IncomingDocument) -> DocumentWrite:
    """store_document() for a group commit."""
    return DocumentWrite(doc, sniff(doc.data))


def stored_parsed(archive: Archive, report_id: int) -> ParsedReport | None:
    """The stored report as the parser's ParsedReport (its parse findings included), for re-checking."""
    r = archive.reports.row(report_id)
    if r is None or r["parse_status"] != "ok":
        return None
    text = archive.reports.text(report_id)
    return ParsedReport(
        agency=r["agency_parsed"],
        year=r["year_parsed"],
        template=r["template"],
        title=r["title"],
        signed_date=r["signed_date"],
        sections=meta.sections(text.splitlines()),
        cells=archive.reports.cells(report_id),
        findings=[f for f in archive.reports.findings(report_id, PARSE_SCOPE) if not f.rule.startswith("archive.")],
        text=text,
        format=r["format"],
        pages=r["pages"],
    )


def _archive_findings(
    doc: IncomingDocument, parsed: ParsedReport | None, failure: tuple[str, str] | None
) -> list[Finding]:
    """The parse-scope findings to store: the parse's and the rules', why a file failed, and where what the
    crawler was told differs from what the report says."""
    findings = list(parsed.findings) if parsed else []
    if failure:
        reason, message = failure
        findings.append(
            Finding("parse.failed", "fail", "error", f"无法解析该文件（{reason}）：{message}", data={"reason": reason})
        )
    if parsed and doc.agency and parsed.agency and parsed.agency != doc.agency:
        findings.append(
            Finding(
                "archive.agency_differs",
                "info",
                "warning",
                f"采集时指定的机关“{doc.agency}”与报告文本中的机关“{parsed.agency}”不一致",
                data={"given": doc.agency, "parsed": parsed.agency},
            )
        )
    if parsed and doc.year and parsed.year and parsed.year != doc.year:
        findings.append(
            Finding(
                "archive.year_differs",
                "info",
                "warning",
                f"采集时指定的年度{doc.year}与报告文本中的年度{parsed.year}不一致",
                data={"given": doc.year, "parsed": parsed.year},
            )
        )
    return findings
