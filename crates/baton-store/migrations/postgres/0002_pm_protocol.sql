-- The PM's decision protocol: what a PM job decided (its line in the chain), and the exact
-- prompt each attempt was given, compressed, with its size and SHA-256.
ALTER TABLE jobs ADD COLUMN decision TEXT;
UPDATE jobs SET decision = 'decided' WHERE decided;
ALTER TABLE attempts ADD COLUMN prompt BYTEA;
ALTER TABLE attempts ADD COLUMN prompt_bytes BIGINT;
ALTER TABLE attempts ADD COLUMN prompt_sha256 TEXT;
