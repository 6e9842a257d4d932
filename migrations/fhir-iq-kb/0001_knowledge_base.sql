-- Knowledge base migration 0001: the tables of the fhir-iq-kb database (binding KB), moved out of
-- the database of record (see migrations/fhir-iq/0002). Everything here is rebuilt by `make kb`.
-- ---------------------------------------------------------------------------------------------------
-- Knowledge base (shared::knowledge)
-- ---------------------------------------------------------------------------------------------------

-- Passages of the FHIR R4 specification (and later the platform's own content), one row per chunk.
-- content_hash lets the indexer skip chunks that have not changed.
CREATE TABLE IF NOT EXISTS kb_chunks (
    id            TEXT PRIMARY KEY,            -- resource:Patient, element:Patient.birthDate, search:Patient:birthdate
    kind          TEXT NOT NULL CHECK (kind IN ('resource', 'element', 'search_param', 'content')),
    resource      TEXT,                        -- the FHIR resource type, NULL for non-spec content
    element       TEXT,
    title         TEXT NOT NULL,
    body          TEXT NOT NULL,
    terms         TEXT NOT NULL,
    url           TEXT NOT NULL,               -- into the R4 specification on hl7.org
    content_hash  TEXT NOT NULL,
    maturity      INTEGER NOT NULL DEFAULT 0,  -- FHIR Maturity Model level of the resource: a ranking prior
    position      INTEGER NOT NULL DEFAULT 0   -- order in the definitions (elements as the specification lists them)
);
CREATE INDEX IF NOT EXISTS kb_chunks_resource ON kb_chunks (resource);

-- BM25 over the chunks. Column order matters: the bm25() weights in shared::knowledge::search follow it.
CREATE VIRTUAL TABLE IF NOT EXISTS kb_fts USING fts5(
    id UNINDEXED, title, resource, terms, body,
    tokenize = 'porter unicode61'
);


-- The development vector store (production uses Vectorize): one row per embedded chunk or content
-- item, the vector as hex of little-endian f32. kb_vector_index records what produced the vectors;
-- vectors or queries from anything else are refused.
CREATE TABLE IF NOT EXISTS kb_vector_index (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    provider    TEXT    NOT NULL,
    model       TEXT    NOT NULL,
    dimensions  INTEGER NOT NULL CHECK (dimensions BETWEEN 1 AND 4096)
);
CREATE TABLE IF NOT EXISTS kb_vectors (
    id      TEXT PRIMARY KEY,
    vector  TEXT NOT NULL
);
