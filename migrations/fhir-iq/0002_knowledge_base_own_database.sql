-- Migration 0002: the knowledge base moves to its own D1 database (fhir-iq-kb, binding KB).
-- Its FTS5 table made this database unexportable ("cannot export databases with Virtual Tables"),
-- and it is large and rebuilt from the R4 definitions by `make kb`, so it needs no backup. The
-- database of record keeps only what cannot be rebuilt. scripts/kb.sh fills the new database.
DROP TABLE IF EXISTS kb_fts;
DROP TABLE IF EXISTS kb_vectors;
DROP TABLE IF EXISTS kb_vector_index;
DROP INDEX IF EXISTS kb_chunks_resource;
DROP TABLE IF EXISTS kb_chunks;
UPDATE schema_version SET version = 2, applied_at = CAST(unixepoch('subsec') * 1000 AS INTEGER) WHERE id = 1;
