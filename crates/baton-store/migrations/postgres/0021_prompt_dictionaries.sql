-- Stored prompts are compressed against a preset dictionary, the text the runner's prompts are
-- made of (its built-in templates): a rendered prompt then costs little more than what is
-- particular to its job. Each dictionary is kept here once, named by its SHA-256, so a prompt
-- stays readable whatever binary reads it; `attempts.prompt_dictionary` says which one a
-- prompt needs (NULL: none, as for every prompt stored before this).
CREATE TABLE prompt_dictionaries (
    id         BIGSERIAL PRIMARY KEY,
    sha256     TEXT NOT NULL UNIQUE,
    dictionary BYTEA NOT NULL
);
ALTER TABLE attempts ADD COLUMN prompt_dictionary BIGINT REFERENCES prompt_dictionaries(id);
