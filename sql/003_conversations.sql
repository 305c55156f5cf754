-- 003_conversations.sql -- conversations and their messages. An exchange (the question and
-- its answer) is written once, after the answer's stream has ended, idempotently by message
-- id: a retry from the spool never writes it twice.
CREATE TABLE conversations (
    id          uuid PRIMARY KEY,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE messages (
    id               uuid PRIMARY KEY,
    conversation_id  uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq              bigserial,
    role             text NOT NULL CHECK (role IN ('user', 'assistant')),
    content          text NOT NULL,
    refs             jsonb,                    -- the numbered references an answer cites
    timings          jsonb,
    status           text NOT NULL DEFAULT 'complete'
                     CHECK (status IN ('complete', 'interrupted', 'failed')),
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX messages_conversation ON messages (conversation_id, seq);
