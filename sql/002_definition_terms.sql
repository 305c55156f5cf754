-- 002_definition_terms.sql -- definition questions look definitions up by their term.
CREATE INDEX chunks_def_term ON chunks (lower(def_term)) WHERE kind = 'definition';
