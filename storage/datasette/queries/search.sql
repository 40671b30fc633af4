-- title: 全文检索 / Full-text search
-- description: 在报告标题和全文中检索，两个字的词（如“复议”“诉讼”）也能找到；多个词用空格分开表示同时包含。 Search report titles and full text; two-character terms such as 复议 work; several words separated by spaces must all occur.
SELECT
    r.id AS report_id,
    a.name AS agency,
    a.province,
    r.year,
    r.title,
    substr(t.full_text, max(1, instr(t.full_text, :q) - 40), 120) AS excerpt,
    '/-/original/' || r.sha256 AS original
FROM reports r
JOIN report_texts t ON t.report_id = r.id
LEFT JOIN agencies a ON a.id = r.agency_id
WHERE r.id IN (
    SELECT rowid FROM reports_fts WHERE reports_fts MATCH xxgk_fts(:q) ORDER BY rowid DESC LIMIT 200
)
ORDER BY r.id DESC
