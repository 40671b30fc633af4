"""What a PDF's streams inflate to, measured before pdfium opens the file.

pdfium aborts the whole process when an allocation fails (SIGABRT, rc 134): a 2 MB file whose page lists one
Flate stream of 2 GB eight times asks it for 16 GB. So the file is scanned first, by a reader that follows the
object syntax only: every `N G obj` is tokenised far enough to read its dictionary; every stream is decoded
through its filter chain (Flate, LZW, ASCII85, ASCIIHex, RunLength) with its output capped and counted; object
streams are opened, since page dictionaries may sit inside them; and every page's /Contents is summed the way
pdfium concatenates it, a stream listed twice counted twice.

Nothing here trusts the cross-reference table, which pdfium may read differently from us: objects are found
where they are, every version of an object number is considered and the largest counts, and a stream's data is
taken from its start to the farthest end pdfium could choose (its /Length or the first `endstream`). Image data
is left alone (pdfium decodes it only to render a page, and sizes it from the image's dimensions); an image
named as page content is measured like any content. What this cannot see through is encryption: the streams of
an encrypted PDF are ciphertext here, and the parse sandbox's memory limit is what bounds them.
"""

from __future__ import annotations

import re
import zlib
from collections import defaultdict
from dataclasses import dataclass

from crawler.parsing import limits

_WS = re.compile(rb"(?:[\x00\t\n\x0c\r ]|%[^\r\n]*)*")
_OBJ = re.compile(rb"obj(?![A-Za-z])")  # a literal first: the scan runs at memory speed
_HEADER = re.compile(rb"(?<![0-9])(\d{1,10})[\x00\t\n\x0c\r ]+\d{1,5}[\x00\t\n\x0c\r ]+\Z")  # before `obj`
_NAME = re.compile(rb"/[^\x00\t\n\x0c\r ()<>\[\]{}/%]*")
_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_NUMBER = re.compile(rb"[+-]?(?:\d+\.?\d*|\.\d+)")
_REF_TAIL = re.compile(rb"[\x00\t\n\x0c\r ]+(\d{1,5})[\x00\t\n\x0c\r ]+R(?![A-Za-z])")
_KEYWORD = re.compile(rb"[A-Za-z_]+")
_PARENS = re.compile(rb"[()\\]")
_STREAM = re.compile(rb"stream(?:\r\n|\n|\r)?")
_DEPTH = 64  # nesting pdfium itself refuses beyond
_FILTERS = {  # the abbreviations of inline images are accepted in streams too
    "/FlateDecode": "flate", "/Fl": "flate", "/LZWDecode": "lzw", "/LZW": "lzw",
    "/ASCII85Decode": "a85", "/A85": "a85", "/ASCIIHexDecode": "ahx", "/AHx": "ahx",
    "/RunLengthDecode": "rl", "/RL": "rl",
}  # fmt: skip
_SLICE = 1 << 16  # input fed to zlib at a time (its unconsumed tail is copied on every call)


@dataclass(frozen=True)
class Ref:
    num: int


@dataclass
class _Stream:
    num: int
    info: dict
    start: int  # first byte of its data
    size: int | None = None  # decoded bytes, once measured


class _TooBig(Exception):
    pass


# ---- object syntax ---------------------------------------------------------------------------------------
def _value(data: bytes, pos: int, depth: int = 0) -> tuple[object, int]:
    """The PDF value at `pos` and the position after it: dict, list, name (str), number, Ref, or None for
    strings, keywords and anything unreadable (what they hold never changes what a stream inflates to)."""
    pos = _WS.match(data, pos).end()
    if pos >= len(data) or depth > _DEPTH:
        return None, len(data)
    head = data[pos : pos + 2]
    if head == b"<<":
        return _dict(data, pos + 2, depth + 1)
    if head[:1] == b"[":
        items: list = []
        pos += 1
        while True:
            pos = _WS.match(data, pos).end()
            if pos >= len(data) or data[pos : pos + 1] == b"]":
                return items, pos + 1
            item, after = _value(data, pos, depth + 1)
            if after <= pos:
                return items, len(data)
            items.append(item)
            pos = after
    if head[:1] == b"/":
        m = _NAME.match(data, pos)
        return _NAME_ESCAPE.sub(lambda e: bytes.fromhex(e[1].decode()), m[0]).decode("latin-1"), m.end()
    if head[:1] == b"(":
        return None, _string_end(data, pos + 1)
    if head[:1] == b"<":
        end = data.find(b">", pos)
        return None, len(data) if end < 0 else end + 1
    m = _NUMBER.match(data, pos)
    if m:
        if b"." not in m[0]:
            ref = _REF_TAIL.match(data, m.end())
            if ref:
                return Ref(int(m[0])), ref.end()
            return int(m[0]), m.end()
        return float(m[0]), m.end()
    m = _KEYWORD.match(data, pos)
    return None, m.end() if m else pos + 1


def _dict(data: bytes, pos: int, depth: int) -> tuple[dict, int]:
    out: dict = {}
    while True:
        pos = _WS.match(data, pos).end()
        if pos >= len(data):
            return out, pos
        if data[pos : pos + 2] == b">>":
            return out, pos + 2
        key, after = _value(data, pos, depth)
        if not isinstance(key, str) or after <= pos:
            return out, len(data) if after <= pos else after  # not a dictionary pdfium could read either
        value, pos = _value(data, after, depth)
        out[key] = value


def _string_end(data: bytes, pos: int) -> int:
    """After the literal string whose opening parenthesis precedes `pos` (balanced, with escapes)."""
    depth = 1
    while depth:
        m = _PARENS.search(data, pos)
        if m is None:
            return len(data)
        pos = m.end()
        if m[0] == b"\\":
            pos += 1
        else:
            depth += 1 if m[0] == b"(" else -1
    return pos


# ---- decoders: bytes in, bytes out, _TooBig past `cap` --------------------------------------------------------
def _inflate(data: memoryview, cap: int, keep: bool = True) -> bytes | int:
    """Flate, fed in slices so that zlib's unconsumed tail stays small; the output joined only with `keep`
    (else its length). Damage ends it where pdfium's inflate ends too: with what came out before."""
    size = 0
    for wbits in (zlib.MAX_WBITS, -zlib.MAX_WBITS):  # then as raw deflate: a stream written without its header
        d, out = zlib.decompressobj(wbits), []
        try:
            for at in range(0, len(data), _SLICE):
                piece = data[at : at + _SLICE]
                while piece and not d.eof:
                    got = d.decompress(piece, min(cap - size + 1, _SLICE << 4))  # at most 1 MB a call
                    size += len(got)
                    if size > cap:
                        raise _TooBig
                    if keep:
                        out.append(got)
                    piece = d.unconsumed_tail
                if d.eof:
                    break
        except zlib.error:
            pass
        if size:
            break
    return b"".join(out) if keep else size


def _lzw(data: memoryview, cap: int) -> bytes:
    """LZW with the early code-width change PDF writers use (pdfminer's reading of it)."""
    table = [bytes([i]) for i in range(256)] + [b"", b""]
    out = bytearray()
    bits = acc = 0
    width, prev = 9, b""
    for byte in data:
        acc, bits = ((acc << 8) | byte) & 0xFFFFFF, bits + 8
        if bits < width:
            continue
        bits -= width
        code = (acc >> bits) & ((1 << width) - 1)
        if code == 256:
            table, width, prev = table[:258], 9, b""
            continue
        if code == 257:
            break
        entry = table[code] if code < len(table) else prev + prev[:1]
        out += entry
        if len(out) > cap:
            raise _TooBig
        if prev and len(table) < 4096:
            table.append(prev + entry[:1])
            if len(table) + 1 >= 1 << width and width < 12:
                width += 1
        prev = entry
    return bytes(out)


_A85_NOISE = bytes(range(33)) + bytes(range(118, 122)) + bytes(range(123, 256))


def _a85(data: memoryview, cap: int) -> bytes:
    """ASCII85 the tolerant way: noise skipped, `z` anywhere, a group past 2**32 wrapped (pdfium's reading)."""
    text = bytes(data)
    end = text.find(b"~")
    text = (text if end < 0 else text[:end]).translate(None, _A85_NOISE).replace(b"z", b"!!!!!")
    out = bytearray()
    for at in range(0, len(text), 5):
        group = text[at : at + 5]
        if len(group) == 1:
            break
        n = 0
        for ch in group + b"u" * (5 - len(group)):
            n = n * 85 + ch - 33
        out += (n & 0xFFFFFFFF).to_bytes(4, "big")[: len(group) - 1]
        if len(out) > cap:
            raise _TooBig
    return bytes(out)


def _ahx(data: memoryview, cap: int) -> bytes:
    text = bytes(data)
    end = text.find(b">")
    digits = re.sub(rb"[^0-9A-Fa-f]", b"", text if end < 0 else text[:end])
    out = bytes.fromhex((digits + b"0" * (len(digits) % 2)).decode())
    if len(out) > cap:
        raise _TooBig
    return out


def _rl(data: memoryview, cap: int) -> bytes:
    out = bytearray()
    i = 0
    while i < len(data) and data[i] != 128:
        n = data[i]
        out += data[i + 1 : i + 2 + n] if n < 128 else bytes(data[i + 1 : i + 2]) * (257 - n)
        i += 2 + n if n < 128 else 2
        if len(out) > cap:
            raise _TooBig
    return bytes(out)


_DECODERS = {"flate": _inflate, "lzw": _lzw, "a85": _a85, "ahx": _ahx, "rl": _rl}


# ---- the file --------------------------------------------------------------------------------------------
class _Scan:
    """Every object of one file by number: the values of plain objects (all versions), and the streams."""

    def __init__(self, data: bytes):
        self.data = data
        self.values: dict[int, list] = defaultdict(list)
        self.streams: dict[int, list[_Stream]] = defaultdict(list)
        self.inflated = 0
        count = 0
        for m in _OBJ.finditer(data):
            header = _HEADER.search(data, max(0, m.start() - 40), m.start())
            if header is None:
                continue  # `endobj`, or the word inside some stream
            count += 1
            if count > limits.PDF_OBJECTS:
                raise limits.too_large(f"the PDF holds more than {limits.PDF_OBJECTS:,} objects")
            self._object(int(header[1]), m.end())

    def _object(self, num: int, pos: int) -> None:
        value, pos = _value(self.data, pos)
        stream = _STREAM.match(self.data, _WS.match(self.data, pos).end()) if isinstance(value, dict) else None
        if stream is None:
            self.values[num].append(value)
        else:
            self.streams[num].append(_Stream(num, value, stream.end()))

    def resolve(self, value) -> list:
        """Every value `value` may stand for: itself, or each version of the object it references."""
        return list(self.values.get(value.num, [])) if isinstance(value, Ref) else [value]

    def names(self, info: dict, key: str) -> list[str]:
        return [v for v in self.resolve(info.get(key)) if isinstance(v, str)]

    def number(self, info: dict, key: str) -> int:
        return max((v for v in self.resolve(info.get(key)) if isinstance(v, int)), default=0)

    def chains(self, stream: _Stream) -> list[list[str]]:
        """The decoders of each filter chain the stream may have (one per version of an indirect /Filter),
        up to the first that is not one of ours (an image codec: pdfium decodes it only to render)."""
        chains = []
        for f in self.resolve(stream.info.get("/Filter")) or [None]:
            chain = []
            for item in f if isinstance(f, list) else [] if f is None else [f]:
                decoder = next((_FILTERS[n] for n in self.resolve(item) if n in _FILTERS), None)
                if decoder is None:
                    break
                chain.append(decoder)
            chains.append(chain)
        return chains

    def raw_size(self, stream: _Stream) -> int:
        """Bytes up to the farthest end pdfium could take: its /Length, or the first `endstream`."""
        closing = self.data.find(b"endstream", stream.start)
        end = len(self.data) if closing < 0 else closing
        lengths = [n for n in self.resolve(stream.info.get("/Length")) if isinstance(n, int) and n > 0]
        return min(len(self.data), max([end, *(stream.start + n for n in lengths)])) - stream.start

    def decode(self, stream: _Stream, keep: bool = False) -> bytes:
        """Measure the stream (the largest of its chains), counted once against PDF_TOTAL_BYTES; its
        decoded bytes with `keep`. Decoders end at their own end markers, so they read to the end of the
        file rather than to an `endstream` that may lie inside the data."""
        rest = memoryview(self.data)[stream.start :]
        size, body = 0, b""
        for chain in self.chains(stream):
            try:
                if not chain:
                    got: bytes | int | memoryview = rest[: self.raw_size(stream)] if keep else self.raw_size(stream)
                elif chain == ["flate"] and not keep:
                    got = _inflate(rest, limits.PDF_STREAM_BYTES, keep=False)
                else:
                    got = rest
                    for name in chain:
                        got = _DECODERS[name](memoryview(got), limits.PDF_STREAM_BYTES)
            except _TooBig:
                raise limits.too_large(
                    f"a stream of the PDF (object {stream.num}) inflates to more than "
                    f"{limits.PDF_STREAM_BYTES >> 20} MB"
                ) from None
            n = got if isinstance(got, int) else len(got)
            if n >= size:
                size, body = n, (bytes(got) if keep and not isinstance(got, int) else b"")
        if stream.size is None:
            stream.size = size
            self.inflated += size
            if self.inflated > limits.PDF_TOTAL_BYTES:
                raise limits.too_large(f"the PDF's streams inflate to more than {limits.PDF_TOTAL_BYTES >> 20} MB")
        return body

    def size(self, num: int) -> int:
        """The largest decoded size among the versions of stream `num` (0 when it is no stream)."""
        versions = self.streams.get(num, [])
        for stream in versions:
            if stream.size is None:
                self.decode(stream)
        return max((s.size or 0 for s in versions), default=0)

    def unpack(self, stream: _Stream) -> None:
        """Add the objects packed in an object stream (page dictionaries are, in PDF 1.5 files)."""
        body = self.decode(stream, keep=True)
        first, count = self.number(stream.info, "/First"), self.number(stream.info, "/N")
        pairs, pos = [], 0
        for _ in range(min(count, limits.PDF_OBJECTS)):
            num, pos = _value(body, pos)
            offset, pos = _value(body, pos)
            if not (isinstance(num, int) and isinstance(offset, int)):
                break
            pairs.append((num, offset))
        for num, offset in pairs:
            self.values[num].append(_value(body, first + offset)[0] if 0 <= first + offset < len(body) else None)


def check_streams(data: bytes) -> None:
    """Refuse, as `too_large`, a PDF whose streams or page content would inflate past the limits."""
    scan = _Scan(data)
    streams = [s for versions in scan.streams.values() for s in versions]
    for stream in streams:  # object streams first: what they hold may be a /Length, a /Filter, a page
        if "/ObjStm" in scan.names(stream.info, "/Type"):
            scan.unpack(stream)
    for stream in streams:
        if stream.size is None and "/Image" not in scan.names(stream.info, "/Subtype"):
            scan.decode(stream)
    total = 0
    for versions in list(scan.values.values()):
        for value in versions:
            if not isinstance(value, dict) or not isinstance(value.get("/Contents"), (Ref, list)):
                continue  # an annotation's /Contents is a text string
            page = _content_size(scan, value["/Contents"])
            if page > limits.PDF_PAGE_CONTENT_BYTES:
                raise limits.too_large(
                    f"a page of the PDF lists more than {limits.PDF_PAGE_CONTENT_BYTES >> 20} MB of content"
                )
            total += page
            if total > limits.PDF_TOTAL_BYTES:
                raise limits.too_large(f"the PDF's pages list more than {limits.PDF_TOTAL_BYTES >> 20} MB of content")


def _content_size(scan: _Scan, contents) -> int:
    """What pdfium concatenates for one page: each stream listed, as often as it is listed."""
    if isinstance(contents, list):
        return sum(scan.size(item.num) for item in contents if isinstance(item, Ref))
    sizes = [scan.size(contents.num)]
    sizes += [_content_size(scan, v) for v in scan.values.get(contents.num, []) if isinstance(v, list)]
    return max(sizes)
