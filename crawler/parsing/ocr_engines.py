"""The OCR engines: what each reads in an image of one printed line, character by character, with confidences.

The page layout (ruling lines, cells, the lines of text in each cell) is found by crawler.parsing.ocr; an
engine only recognises line images, so both engines are given exactly the same crops and can be compared
side by side (bench/ocr.py), and a figure one engine is unsure of can be read again by the other.

- `rapid`: the PP-OCRv4 recognition model shipped inside the rapidocr-onnxruntime wheel (models in the wheel:
  nothing is downloaded at run time), run with ONNX Runtime on one thread. Its CTC output is decoded here so
  that each character keeps its own probability and its place along the line.
- `tesseract`: tesseract `chi_sim` (the Debian packages), the line crops stacked on one canvas and read in one
  call, each word's confidence given to its characters.
"""

from __future__ import annotations

import csv
import functools
import io
import os
import shutil
import subprocess
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from crawler.model import ParseError

_REC_HEIGHT = 48  # the PP-OCR recognition input height
_BATCH = 8


@dataclass
class Reading:
    """What an engine read in one line image: each character with its x extent (pixels of the crop) and its
    probability (0..1)."""

    chars: list[tuple[str, float, float, float]]  # text, x0, x1, confidence

    @property
    def text(self) -> str:
        return "".join(c[0] for c in self.chars)

    @property
    def confidence(self) -> float:
        return min((c[3] for c in self.chars), default=0.0)


class Engine(Protocol):
    name: str

    def read(self, lines: list[np.ndarray], deadline: float | None = None) -> list[Reading]: ...


class OcrTimeout(Exception):
    """The document's OCR time budget ran out."""


def _check(deadline: float | None) -> None:
    import time

    if deadline is not None and time.monotonic() > deadline:
        raise OcrTimeout


# ---- RapidOCR (PP-OCRv4, ONNX Runtime) ---------------------------------------------------------------------
class RapidEngine:
    name = "rapidocr PP-OCRv4"

    def __init__(self) -> None:
        from importlib.resources import files

        import onnxruntime as ort

        model = files("rapidocr_onnxruntime") / "models" / "ch_PP-OCRv4_rec_infer.onnx"
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1  # one core per document, as the crawler's workers run
        options.inter_op_num_threads = 1
        options.log_severity_level = 4
        self.session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
        chars = self.session.get_modelmeta().custom_metadata_map["character"].splitlines()
        self.alphabet = ["", *chars, " "]  # CTC blank first, space last (as PaddleOCR trains it)
        self.input = self.session.get_inputs()[0].name

    def read(self, lines: list[np.ndarray], deadline: float | None = None) -> list[Reading]:
        out: list[Reading | None] = [None] * len(lines)
        order = sorted(range(len(lines)), key=lambda i: lines[i].shape[1] / max(lines[i].shape[0], 1))
        for start in range(0, len(order), _BATCH):
            _check(deadline)
            batch = order[start : start + _BATCH]
            widths = [max(1, round(lines[i].shape[1] * _REC_HEIGHT / max(lines[i].shape[0], 1))) for i in batch]
            width = max(max(widths), 320)
            tensor = np.zeros((len(batch), 3, _REC_HEIGHT, width), np.float32)
            for k, i in enumerate(batch):
                resized = _resize(lines[i], widths[k], _REC_HEIGHT)
                tensor[k, :, :, : widths[k]] = (resized.astype(np.float32) / 255 - 0.5) / 0.5
            probs = self.session.run(None, {self.input: tensor})[0]  # batch × steps × alphabet
            for k, i in enumerate(batch):
                scale = width / probs.shape[1] * lines[i].shape[1] / widths[k]  # crop pixels per time step
                out[i] = self._decode(probs[k], scale, lines[i].shape[0])
        return [r or Reading([]) for r in out]

    def _decode(self, probs: np.ndarray, step: float, height: int) -> Reading:
        """Greedy CTC: a character per run of one non-blank label; its probability is the run's best."""
        best = probs.argmax(axis=1)
        conf = probs.max(axis=1)
        chars: list[tuple[str, float, float, float]] = []
        t = 0
        while t < len(best):
            label = int(best[t])
            end = t
            while end + 1 < len(best) and best[end + 1] == label:
                end += 1
            if label != 0 and label < len(self.alphabet):
                text = self.alphabet[label]
                chars.append((text, t * step, (end + 1) * step, float(conf[t : end + 1].max())))
            t = end + 1
        return Reading(_widen(chars, height))


def _widen(chars: list[tuple[str, float, float, float]], height: int) -> list[tuple[str, float, float, float]]:
    """CTC marks a character at one or two time steps: give each the room up to half-way to its neighbours,
    at most the width such a character prints at (a digit half the line height, a hanzi all of it), so that
    the gaps between characters are the printed gaps."""
    out = []
    for k, (text, x0, x1, conf) in enumerate(chars):
        mid = (x0 + x1) / 2
        left = (chars[k - 1][1] + chars[k - 1][2]) / 2 if k else None
        right = (chars[k + 1][1] + chars[k + 1][2]) / 2 if k + 1 < len(chars) else None
        half = height * (0.3 if text.isascii() else 0.55)
        a = max(mid - half, (left + mid) / 2) if left is not None else mid - half / 2
        b = min(mid + half, (mid + right) / 2) if right is not None else mid + half / 2
        out.append((text, a, b, conf))
    return out


def _resize(gray: np.ndarray, width: int, height: int) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.fromarray(gray).resize((width, height), Image.Resampling.BILINEAR))


# ---- tesseract chi_sim ----------------------------------------------------------------------------------------
class TesseractEngine:
    name = "tesseract chi_sim"
    _PAD = 16

    def __init__(self, timeout: float = 120.0, digits: bool = False) -> None:
        if shutil.which("tesseract") is None:
            raise ParseError("unsupported", "OCR needs tesseract or rapidocr-onnxruntime; neither is installed")
        self.timeout = timeout
        # Digits only: the second reading of a figure (crawler.parsing.ocr), where nothing but a number may come out.
        self.languages = ["-l", "eng", "-c", "tessedit_char_whitelist=0123456789.-"] if digits else ["-l", "chi_sim"]

    def read(self, lines: list[np.ndarray], deadline: float | None = None) -> list[Reading]:
        if not lines:
            return []
        _check(deadline)
        from PIL import Image

        # One canvas, one line image under the other, every line scaled to one height: one tesseract call.
        height = 40
        scaled = [_resize(im, max(1, round(im.shape[1] * height / max(im.shape[0], 1))), height) for im in lines]
        factors = [im.shape[1] / max(s.shape[1], 1) for im, s in zip(lines, scaled, strict=True)]
        pitch = height + 2 * self._PAD
        canvas = np.full((pitch * len(scaled), max(s.shape[1] for s in scaled) + 2 * self._PAD), 255, np.uint8)
        for k, s in enumerate(scaled):
            canvas[k * pitch + self._PAD : k * pitch + self._PAD + height, self._PAD : self._PAD + s.shape[1]] = s
        buf = io.BytesIO()
        Image.fromarray(canvas).save(buf, format="PPM")
        env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
        try:
            proc = subprocess.run(
                ["tesseract", "-", "-", "--psm", "6", *self.languages, "tsv"],
                input=buf.getvalue(),
                capture_output=True,
                timeout=self.timeout,
                env=env,
            )
        except subprocess.TimeoutExpired as e:
            raise OcrTimeout from e
        if proc.returncode != 0:
            raise ParseError("unreadable", f"tesseract failed: {proc.stderr.decode(errors='replace').strip()[:200]}")
        words: list[list[tuple[str, float, float, float]]] = [[] for _ in lines]
        for row in csv.DictReader(io.StringIO(proc.stdout.decode()), delimiter="\t", quoting=csv.QUOTE_NONE):
            text = (row.get("text") or "").strip()
            if row.get("level") != "5" or not text:
                continue
            k = int((float(row["top"]) + float(row["height"]) / 2) // pitch)
            if not 0 <= k < len(lines):
                continue
            left = (float(row["left"]) - self._PAD) * factors[k]
            width = float(row["width"]) * factors[k] / len(text)
            conf = max(float(row["conf"]), 0.0) / 100
            words[k] += [(ch, left + j * width, left + (j + 1) * width, conf) for j, ch in enumerate(text)]
        return [Reading(sorted(w, key=lambda c: c[1])) for w in words]


ENGINES = {"rapid": RapidEngine, "tesseract": TesseractEngine}


def engine(name: str | None = None) -> Engine:
    """The named engine, or the one XXGK_OCR_ENGINE names, or the best one installed: RapidOCR, else tesseract."""
    name = name or os.environ.get("XXGK_OCR_ENGINE", "").strip().lower() or None
    if name is not None and name not in ENGINES:
        raise ParseError("unsupported", f"unknown OCR engine {name!r} (known: {', '.join(ENGINES)})")
    return _engine(name)


@functools.cache
def _engine(name: str | None) -> Engine:
    """Loaded once per process (the model takes a second to load)."""
    if name is not None:
        return ENGINES[name]()
    try:
        return RapidEngine()
    except ImportError:
        return TesseractEngine()
