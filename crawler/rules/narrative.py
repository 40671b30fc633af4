"""Text against table: the numbers a report's narrative states, compared with its own tables.

Real narratives are loose ("共受理…申请3119件", "答复3050件（含上年度结转申请34件，另有103件顺延到下年度
答复）", "8件全部依法依规予以答复"). A statement is asserted only when its clause clearly names one
quantity; anything vaguer (余/约/以上, channels such as 网上申请, consultations, rates of timeliness) is
left alone. Where a sentence can honestly mean two table quantities (共受理 with or without the
carried-over requests), either one passes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from crawler.model import Finding
from crawler.rules.engine import Values, fmt
from crawler.rules.identities import short_label
from crawler.text import squash

# --- which table quantity each statement is about -------------------------------------------
_A = "applications.{}.total".format
_LITIGATION = ("litigation_direct", "litigation_after_review")
_OUTCOMES = {"维持": "upheld", "纠正": "corrected", "其他结果": "other", "尚未审结": "pending", "未审结": "pending"}


@dataclass(frozen=True)
class Quantity:
    rule: str
    scope: str
    label: str  # Chinese name of the quantity
    alternatives: tuple[tuple[str, ...], ...]  # each alternative: cell keys whose sum the text may mean


QUANTITIES: dict[str, Quantity] = {
    q.scope: q
    for q in (
        Quantity("text.applications", "received", "本年收到的申请数", ((_A("new"),), (_A("new"), _A("carried_over")))),
        Quantity("text.applications", "carried_over", "上年结转的申请数", ((_A("carried_over"),),)),
        Quantity("text.applications", "handled", "本年答复（办结）的申请数", ((_A("handled_total"),),)),
        Quantity("text.applications", "granted", "予以公开的申请数", ((_A("granted"),),)),
        Quantity("text.applications", "carry_forward", "结转下年度办理的申请数", ((_A("carry_forward"),),)),
        Quantity("text.review_litigation", "review", "行政复议案件数", (("review.total",),)),
        Quantity("text.review_litigation", "litigation", "行政诉讼案件数", (tuple(f"{g}.total" for g in _LITIGATION),)),
        *(
            Quantity("text.review_litigation", f"review.{col}", f"行政复议{word}数", ((f"review.{col}",),))
            for word, col in _OUTCOMES.items()
            if word != "未审结"
        ),
        *(
            Quantity(
                "text.review_litigation",
                f"litigation.{col}",
                f"行政诉讼{word}数",
                (tuple(f"{g}.{col}" for g in _LITIGATION),),
            )
            for word, col in _OUTCOMES.items()
            if word != "未审结"
        ),
    )
}

# Share of requests granted: the text may divide by handled, new, or new + carried over, and may
# count partial grants in; a stated percentage fails only if it fits none of these readings.
_GRANT_NUMERATORS = ((_A("granted"),), (_A("granted"), _A("partial")))
_GRANT_DENOMINATORS = ((_A("handled_total"),), (_A("new"),), (_A("new"), _A("carried_over")))
PERCENT_RULE = "text.granted_share"

# --- reading the narrative -------------------------------------------------------------------
_COUNT = r"(\d+)(?:件|项|个|起|宗)"
_COUNTS = re.compile(r"(\d+)(余|多)?(?:件|项|个|起|宗)")
_VAGUE = re.compile(r"约|近|超过|以上|左右|余件|多件")
_REVIEW = re.compile(r"行政复议(?:案件|申请|案)?(?:共计?|合计|总计)?" + _COUNT + r"|" + _COUNT + r"行政复议")
_LITIG = re.compile(r"行政诉讼(?:案件|案)?(?:共计?|合计|总计)?" + _COUNT + r"|" + _COUNT + r"行政诉讼")
_OUTCOME = re.compile(r"(?:结果)?(维持|纠正|其他结果|尚未审结|未审结)(?:的)?" + _COUNT)
_NOT_OUTCOME_CONTEXT = re.compile(r"直接起诉|复议后起诉")
_ZERO_CASES = re.compile(r"未|没有|无")
_ZERO_GUARD = re.compile(r"纠|败诉|维持|撤销|违法|\d")
_NEXT_YEAR = re.compile(
    r"(?:结转|顺延|转入|转至|继续办理).{0,6}下一?年|下一?年度?.{0,6}(?:结转|顺延|继续办理|答复|办理)"
)
_LAST_YEAR = re.compile(r"上一?年度?(?:结转|转入)|(?:结转|转入)自?上一?年")
_RECEIVED_VERB = re.compile(r"收到|受理|新收|接收|收悉|接到")
_RECEIVED_BARE = re.compile(r"^(?:全年|共|本年度?|\d{4}年度?)?依申请公开申请件?" + _COUNT)
_NO_RECEIVED = re.compile(r"(?:未|没有)(?:收到|受理|接到|发生)")
_CHANNEL = re.compile(r"其中|通过|网上|网络|在线|当面|信函|传真|邮寄|邮件|电话|咨询|留言|来信|建议|提案|信访|费")
_GRANTED = re.compile(r"(?<![部不])予以公开")
_HANDLED = re.compile(r"答复|办结|办理完毕")
_HANDLED_EXCLUDE = re.compile(r"按时|按期|及时|逾期|延期|率|%|咨询|留言|来信|建议|提案|信访|收到|受理")
_PERCENT = re.compile(r"(\d+(?:\.(\d+))?)%")
_GRANT_SHARE = re.compile(r"(?<![部不])公开(?:率|比例|比率|占比)|(?<![部不])予以公开.{0,12}(?:占|比例|比重)")
_SHARE_OF_LAST = re.compile(r"^约?占(?:比|总数的?|全部申请的?)?(\d+(?:\.(\d+))?)%$")  # "予以公开523件，占43.6%"
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")


@dataclass(frozen=True)
class Statement:
    scope: str  # a key of QUANTITIES, or PERCENT_RULE
    value: float
    clause: str  # the words that state it, for the message
    decimals: int = 0  # for percentages: digits printed after the point


def narrative(sections: Mapping[str, str], text: str) -> str:
    """The prose to read: section 一 and 五/六 whole, sentences only elsewhere (tables are not prose)."""
    if not sections:
        return "\n".join(line for line in text.splitlines() if "。" in line)
    parts = []
    for num, body in sections.items():
        if num in "一五六":
            parts.append(body)
        else:
            parts.extend(line for line in body.splitlines() if "。" in line and "\t" not in line)
    return "\n".join(parts)


def _sentences(prose: str) -> list[str]:
    # PDF text breaks lines mid-sentence: join lines, then cut at sentence ends.
    joined = "".join(squash(line) for line in prose.splitlines())
    joined = _THOUSANDS.sub("", joined)
    return [s for s in re.split(r"[。!?]", joined) if s]


def _clauses(part: str) -> list[str]:
    # Parentheses hold their own statements ("含上年度结转申请34件"); "、" separates counted items.
    part = re.sub(r"[()\[\]【】]", ",", part)
    part = re.sub(r"(?<=[件项起宗])、", ",", part)
    return [c for c in re.split(r"[,:]", part) if c]


def statements(prose: str) -> list[Statement]:
    """Every clearly worded number in the narrative, tagged with the quantity it states."""
    out: list[Statement] = []
    previous = ""
    for sentence in _sentences(prose):
        # "共收到申请N件。全年办结M件，…": the sentence before may carry the topic.
        about_requests = "申请" in sentence or "申请" in previous
        about_disclosure = "公开" in sentence
        previous = sentence
        for part in sentence.split(";"):
            subject: str | None = None  # the quantity stated last in this part (for 其中…, 占X%)
            for clause in _clauses(part):
                found, subject = _read_clause(clause, subject, about_requests, about_disclosure)
                out.extend(found)
    return out


def _one(pattern: re.Pattern, clause: str) -> int | None:
    hits = [next(g for g in m.groups() if g) for m in pattern.finditer(clause)]
    return int(hits[0]) if len(hits) == 1 else None


def _read_clause(
    clause: str, subject: str | None, about_requests: bool, about_disclosure: bool
) -> tuple[list[Statement], str | None]:
    review, litig = "行政复议" in clause, "行政诉讼" in clause
    if review or litig:
        if not about_disclosure:
            return [], None
        if review and litig:  # only "未发生…行政复议、行政诉讼" states both at once
            if _ZERO_CASES.search(clause) and not _ZERO_GUARD.search(clause):
                return [Statement("review", 0, clause), Statement("litigation", 0, clause)], None
            return [], None
        scope = "review" if review else "litigation"
        if _NOT_OUTCOME_CONTEXT.search(clause):
            return [], None
        n = _one(_REVIEW if review else _LITIG, clause)
        if n is not None and not _VAGUE.search(clause):
            return [Statement(scope, n, clause)] + _outcomes(clause, scope), scope
        if _ZERO_CASES.search(clause) and not _ZERO_GUARD.search(clause):
            return [Statement(scope, 0, clause)], None
        return [], None
    if subject in ("review", "litigation") and _OUTCOME.search(clause):
        return _outcomes(clause, subject), subject
    share = _SHARE_OF_LAST.match(clause)
    if subject == "granted" and share:
        return [Statement(PERCENT_RULE, float(share[1]), clause, len(share[2] or ""))], None
    if not about_requests or _VAGUE.search(clause):
        return [], None
    counts = _COUNTS.findall(clause)
    if any(approx for _, approx in counts):
        return [], None
    single = int(counts[0][0]) if len(counts) == 1 else None
    if "%" in clause:
        return _percent(clause), None
    if single is None:
        if (
            _NO_RECEIVED.search(clause)
            and "申请" in clause
            and not _CHANNEL.search(clause)
            and not re.search(r"\d", clause)
        ):
            return [Statement("received", 0, clause)], None
        return [], None
    if _NEXT_YEAR.search(clause):
        return [Statement("carry_forward", single, clause)], "carry_forward"
    if _LAST_YEAR.search(clause):
        return [Statement("carried_over", single, clause)], "carried_over"
    if (
        "申请" in clause
        and not _CHANNEL.search(clause)
        and (_RECEIVED_VERB.search(clause) or _RECEIVED_BARE.search(clause))
    ):
        return [Statement("received", single, clause)], "received"
    if _GRANTED.search(clause) and "部分公开" not in clause and "不予公开" not in clause:
        return [Statement("granted", single, clause)], "granted"
    if _HANDLED.search(clause) and not _HANDLED_EXCLUDE.search(clause):
        return [Statement("handled", single, clause)], "handled"
    return [], None


def _outcomes(clause: str, subject: str) -> list[Statement]:
    return [Statement(f"{subject}.{_OUTCOMES[w]}", int(n), clause) for w, n in _OUTCOME.findall(clause)]


def _percent(clause: str) -> list[Statement]:
    hits = _PERCENT.findall(clause)
    if len(hits) != 1 or not _GRANT_SHARE.search(clause):
        return []
    number, decimals = hits[0]
    return [Statement(PERCENT_RULE, float(number), clause, len(decimals))]


# --- comparing with the table ----------------------------------------------------------------
def _sum(keys: tuple[str, ...], values: Values) -> float | None:
    if any(k not in values for k in keys):
        return None
    return sum(values[k] or 0 for k in keys)


def _quote(clause: str) -> str:
    return f"“{clause[:60]}”"


def _describe(template: str, keys: tuple[str, ...], values: Values) -> str:
    parts = "+".join(f"{short_label(template, k)}（{'空白' if values[k] is None else fmt(values[k])}）" for k in keys)
    return parts if len(keys) == 1 else f"{parts}={fmt(_sum(keys, values))}"


def _count_finding(q: Quantity, found: list[Statement], template: str, values: Values) -> Finding:
    cells = sorted({k for alt in q.alternatives for k in alt})
    data = {"scope": q.scope, "stated": [s.value for s in found], "quotes": [s.clause for s in found]}
    sums = [(alt, _sum(alt, values)) for alt in q.alternatives]
    known = [(alt, v) for alt, v in sums if v is not None]
    if not known:
        return Finding(
            q.rule, "not_assessable", "info", f"正文写明{q.label}，但表格缺少对应单元格，无法核对", cells, data
        )
    wrong = [s for s in found if not any(abs(s.value - v) < 1e-6 for _, v in known)]
    data["table"] = [v for _, v in known]
    if not wrong:
        return Finding(q.rule, "pass", "info", f"正文所述{q.label}（{fmt(found[0].value)}）与表格一致", cells, data)
    table = "，或".join(_describe(template, alt, values) for alt, _ in known)
    said = "；".join(f"{_quote(s.clause)}（{fmt(s.value)}）" for s in wrong)
    return Finding(q.rule, "fail", "warning", f"正文与表格不符：正文称{said}，而表格{q.label}为{table}", cells, data)


def _percent_finding(found: list[Statement], template: str, values: Values) -> Finding:
    cells = sorted({k for alt in _GRANT_NUMERATORS + _GRANT_DENOMINATORS for k in alt})
    data = {"scope": "granted_share", "stated": [s.value for s in found], "quotes": [s.clause for s in found]}
    shares = []
    for num in _GRANT_NUMERATORS:
        for den in _GRANT_DENOMINATORS:
            n, d = _sum(num, values), _sum(den, values)
            if n is not None and d:
                shares.append(100 * n / d)
    if not shares:
        return Finding(
            PERCENT_RULE, "not_assessable", "info", "正文写明公开比例，但表格缺少计算所需的单元格", cells, data
        )
    wrong = [s for s in found if not any(abs(s.value - x) <= 10**-s.decimals + 1e-9 for x in shares)]
    data["table"] = [round(x, 2) for x in shares]
    if not wrong:
        return Finding(
            PERCENT_RULE, "pass", "info", f"正文所述公开比例（{fmt(found[0].value)}%）与表格相符", cells, data
        )
    said = "；".join(f"{_quote(s.clause)}（{fmt(s.value)}%）" for s in wrong)
    granted = _describe(template, _GRANT_NUMERATORS[0], values)
    handled = _describe(template, _GRANT_DENOMINATORS[0], values)
    return Finding(
        PERCENT_RULE,
        "fail",
        "warning",
        f"正文与表格不符：正文称{said}，而按表格（{granted}，{handled}）计算的公开比例为"
        + "、".join(f"{x:.1f}%" for x in sorted(set(round(x, 1) for x in shares))),
        cells,
        data,
    )


def text_findings(sections: Mapping[str, str], text: str, template: str, values: Values) -> list[Finding]:
    """One finding per quantity the narrative states; one not_assessable if it states none."""
    return compare(statements(narrative(sections, text)), template, values)


def compare(found: list[Statement], template: str, values: Values) -> list[Finding]:
    """The statements read from a narrative against a table (reusable when only cells change)."""
    by_scope: dict[str, list[Statement]] = {}
    for s in found:
        by_scope.setdefault(s.scope, []).append(s)
    out = []
    for scope, group in by_scope.items():
        if scope == PERCENT_RULE:
            out.append(_percent_finding(group, template, values))
        else:
            out.append(_count_finding(QUANTITIES[scope], group, template, values))
    if not out:
        out.append(
            Finding(
                "text.applications",
                "not_assessable",
                "info",
                "正文未写明可与表格核对的申请或复议、诉讼数字",
                data={"scope": "narrative"},
            )
        )
    return out
