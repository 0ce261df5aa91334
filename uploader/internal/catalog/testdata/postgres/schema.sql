-- media: the seed's shape, schema-qualified, with a bigint id, a boolean flag and the
-- optional etag and upload-time columns.
CREATE SCHEMA app;
CREATE TABLE app.media (
	id          BIGINT PRIMARY KEY,
	file_path   TEXT,
	hosted      BOOLEAN,
	etag        TEXT,
	uploaded_at TIMESTAMPTZ
);

-- media_text: a text id, whose order differs from the numbers in it, and an integer flag.
CREATE TABLE media_text (
	code      TEXT PRIMARY KEY,
	file_path TEXT,
	hosted    INTEGER
);
