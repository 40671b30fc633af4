-- Schema version 2: Chinese full-text search over report titles and text.
-- Contentless (the text lives in report_texts); rows hold storage.search.index_text() of each
-- column, rowid = reports.id. contentless_delete lets a new version replace its row.
CREATE VIRTUAL TABLE reports_fts USING fts5(
    title,
    body,
    content = '',
    contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 0'
);
