-- Knowledge base migration 0002: guide passages (shared::knowledge::guide). Summaries of the R4
-- RESTful API and search pages are indexed beside the definitions as kind 'guide'. SQLite cannot
-- widen a CHECK in place, so kb_chunks is rebuilt with its rows (all of them rebuildable by
-- `make kb` anyway); kb_fts and the vectors are keyed by chunk id and are untouched.
CREATE TABLE kb_chunks_next (
    id            TEXT PRIMARY KEY,
    kind          TEXT NOT NULL CHECK (kind IN ('resource', 'element', 'search_param', 'content', 'guide')),
    resource      TEXT,
    element       TEXT,
    title         TEXT NOT NULL,
    body          TEXT NOT NULL,
    terms         TEXT NOT NULL,
    url           TEXT NOT NULL,
    content_hash  TEXT NOT NULL,
    maturity      INTEGER NOT NULL DEFAULT 0,
    position      INTEGER NOT NULL DEFAULT 0
);
INSERT INTO kb_chunks_next (id, kind, resource, element, title, body, terms, url, content_hash, maturity, position)
    SELECT id, kind, resource, element, title, body, terms, url, content_hash, maturity, position FROM kb_chunks;
DROP TABLE kb_chunks;
ALTER TABLE kb_chunks_next RENAME TO kb_chunks;
CREATE INDEX IF NOT EXISTS kb_chunks_resource ON kb_chunks (resource);
