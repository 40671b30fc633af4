"""Matching printed labels to template rows and columns by meaning, not by exact text.

Each rule lists short keywords that survive typos (危机/危及), line breaks inside labels,
numbering variants (1. / 1、) and truncation of wrapped labels. Labels are compared in
`squash`ed form. When several rules match a run of label text, the one whose keyword ends
last wins: nested labels print the specific part last ("（三）不予公开 1.属于国家秘密").
"""

from __future__ import annotations

import re

# applications.<row> rules; the 2019/2021 (六) variants are told apart by which keyword matched.
APPLICATION_ROWS: list[tuple[str, tuple[str, ...]]] = [
    ("new", ("本年新收", "新收到", "本年收到", "本年新增")),
    ("carried_over", ("上年结转", "上一年结转", "上年度结转")),
    ("granted", ("予以公开",)),
    ("partial", ("部分公开",)),
    ("refused.state_secret", ("国家秘密",)),
    ("refused.law_prohibited", ("禁止公开",)),
    ("refused.three_safety", ("三安全", "一稳定")),
    ("refused.third_party", ("第三方",)),
    ("refused.internal_affairs", ("内部事务",)),
    ("refused.process_info", ("过程性",)),
    ("refused.enforcement_file", ("案卷",)),
    ("refused.query_matter", ("查询事项", "行政查询")),
    ("unable.not_held", ("不掌握",)),
    ("unable.needs_creation", ("另行制作", "现成信息")),
    ("unable.unclear", ("仍不明确", "补正后")),
    ("not_processed.petition", ("信访", "举报投诉")),
    ("not_processed.duplicate", ("重复申请",)),
    ("not_processed.publication", ("出版物",)),
    ("not_processed.excessive", ("大量反复", "反复申请")),
    ("not_processed.confirmation", ("重新出具", "确认或")),
    ("other", ("其他处理",)),
    ("other.no_correction", ("不补正", "逾期不补")),
    ("other.unpaid_fee", ("缴纳费用", "收费通知", "未按收费")),
    ("handled_total", ("(七)总计", "七)总计", "七、总计")),
    ("carry_forward", ("结转下年", "结转下一年", "转下年度")),
]

_FUZZY_SPAN = 60  # characters of label text searched for misspelt keywords
_FUZZY_MIN = 4  # shorter keywords with one character changed collide (第三方/第三项)

# A bare "总计" or "3.其他" is only a row label in context; see match_application_row.
_BARE_TOTAL = re.compile(r"(^|[)\]])总计$")
_BARE_OTHER = re.compile(r"(^|\d\.)其他$")

ACTIVE_ROWS: list[tuple[str, tuple[str, ...]]] = [
    ("rules", ("规章",)),
    ("normative_docs", ("规范性文件",)),
    ("licensing", ("行政许可",)),
    ("other_services", ("其他对外管理服务", "对外管理服务事项")),
    ("penalty", ("行政处罚",)),
    ("enforcement", ("行政强制",)),
    ("fees", ("行政事业性收费", "事业性收费")),
    ("procurement", ("政府集中采购", "集中采购")),
]

# Column headers of table 二. Order of appearance in the header gives the column order.
ACTIVE_COLUMNS: list[tuple[str, tuple[str, ...]]] = [
    ("made", ("新制作",)),
    ("published", ("新公开",)),
    ("total", ("公开总数", "对外公开总")),
    ("issued", ("制发",)),
    ("repealed", ("废止",)),
    ("in_force", ("现行有效",)),
    ("prev_count", ("上一年项目", "上年项目")),
    ("change", ("增/减", "增减", "增(减)", "增、减")),
    ("decisions", ("处理决定",)),
    ("items", ("采购项目",)),
    ("amount", ("金额",)),
]

REVIEW_GROUPS: list[tuple[str, tuple[str, ...]]] = [
    ("review", ("行政复议",)),
    ("litigation_direct", ("直接起诉",)),
    ("litigation_after_review", ("复议后起诉",)),
]


def _near(text: str, word: str) -> int:
    """Where the last copy of `word` with at most one character changed ends in `text`, or -1.

    One wrong character is the usual typo or OCR slip (本年浙收, 子以公开, 茜止公开)."""
    n = len(word)
    first, second = word[0], word[1]
    for start in range(len(text) - n, -1, -1):
        if text[start] != first and text[start + 1] != second:
            continue  # two slips already
        if sum(a != b for a, b in zip(text[start : start + n], word, strict=True)) <= 1:
            return start + n
    return -1


def _best(text: str, rules: list[tuple[str, tuple[str, ...]]]) -> tuple[str, int] | None:
    best: tuple[int, int, str] | None = None
    for rid, words in rules:
        for w in words:
            pos = text.rfind(w)
            if pos >= 0:
                cand = (pos + len(w), len(w), rid)
                if best is None or cand[:2] > best[:2]:
                    best = cand
    if best is None:  # nothing spelled right: allow one slip in keywords long enough to stay apart
        # A row label sits at the end and the scan is per character: look at the tail only,
        # but report positions in the whole text, as the exact pass does.
        offset = max(0, len(text) - _FUZZY_SPAN)
        tail = text[offset:]
        for rid, words in rules:
            for w in words:
                end = _near(tail, w) if len(w) >= _FUZZY_MIN else -1
                end = end + offset if end >= 0 else -1
                if end >= 0 and (best is None or (end, len(w)) > best[:2]):
                    best = (end, len(w), rid)
    return (best[2], best[0]) if best else None


def match_application_row(text: str, last_token: str, in_other_group: bool) -> str | None:
    """The applications row a run of label text names, or None."""
    if in_other_group and _BARE_OTHER.search(last_token):
        return "other.other"
    hit = _best(text, APPLICATION_ROWS)
    if _BARE_TOTAL.search(text) and (hit is None or hit[1] < len(text) - 2):
        return "handled_total"
    return hit[0] if hit else None


def match_active_row(text: str) -> str | None:
    hit = _best(text, ACTIVE_ROWS)
    return hit[0] if hit else None


def active_columns(header: str) -> list[str]:
    """Column ids named in a table-二 header, in printed order."""
    found: list[tuple[int, str]] = []
    for cid, words in ACTIVE_COLUMNS:
        positions = [header.find(w) for w in words if w in header]
        if positions:
            found.append((min(positions), cid))
    found.sort()
    cols = [c for _, c in found]
    # 上一年项目数量 also contains 项目数量; 采购总金额 is the amount, 采购项目数量 the items.
    return cols


def match_review_group(text: str) -> str | None:
    hit = _best(text, REVIEW_GROUPS)
    return hit[0] if hit else None


def amount_unit(header: str) -> str | None:
    for unit in ("亿元", "万元", "元"):
        if unit in header:
            return unit
    return None
