-- 001_init.sql -- documents, retrieval units (articles and definitions) and their vectors.
-- Applied once by `lexrag-ingest migrate`, recorded in schema_migrations.

CREATE TABLE documents (
    doc_id      text PRIMARY KEY,              -- "UU-31-1999", "KUHP"
    doc_type    text NOT NULL,                 -- "UU", "PP", "KUHP"
    number      text,
    year        integer NOT NULL,
    title       text NOT NULL,
    tentang     text,
    source      text,
    flags       text[] NOT NULL DEFAULT '{}',
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- One retrieval unit: an article (kind 'article'), or one definition of a Ketentuan Umum
-- article (kind 'definition', def_no set). Container records of amending laws are kept as
-- articles too (kind 'container') so citations find them, but are not indexed for retrieval.
CREATE TABLE chunks (
    id            bigserial PRIMARY KEY,
    key           text NOT NULL UNIQUE,        -- "UU-31-1999:2", "UU-20-2001:I/6", "UU-31-1999:1#3"
    kind          text NOT NULL CHECK (kind IN ('article', 'definition', 'container')),
    doc_id        text NOT NULL REFERENCES documents (doc_id),
    doc_type      text NOT NULL,
    number        text,
    year          integer NOT NULL,
    title         text NOT NULL,
    bab           text,
    pasal         text NOT NULL,
    parent_pasal  text,
    amends        text,
    ayat          jsonb,                       -- [{"ayat":"1","start":0,"end":448}, ...]
    def_no        integer,
    def_term      text,
    text          text NOT NULL,
    penjelasan    text,
    flags         text[] NOT NULL DEFAULT '{}',
    content_hash  text NOT NULL,               -- of everything indexed: unchanged rows are skipped
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX chunks_doc_pasal ON chunks (doc_id, pasal);
CREATE INDEX chunks_amends_pasal ON chunks (amends, pasal) WHERE amends IS NOT NULL;

-- The embedding of a unit's text under one model; content_hash says which text it was.
CREATE TABLE chunk_vectors (
    chunk_id      bigint NOT NULL REFERENCES chunks (id) ON DELETE CASCADE,
    model         text NOT NULL,
    dim           integer NOT NULL,
    content_hash  text NOT NULL,
    vec           bytea NOT NULL,              -- dim little-endian float32
    PRIMARY KEY (chunk_id, model)
);
