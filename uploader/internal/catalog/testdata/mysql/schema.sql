-- media: the seed's shape, a bigint id and a boolean flag (TINYINT(1) in MySQL), with the
-- optional etag and upload-time columns.
CREATE TABLE media (
	id          BIGINT PRIMARY KEY,
	file_path   TEXT,
	hosted      BOOLEAN,
	etag        TEXT,
	uploaded_at DATETIME(6)
);

-- media_text: a text id, whose order differs from the numbers in it, and an integer flag.
CREATE TABLE media_text (
	code      VARCHAR(64) PRIMARY KEY,
	file_path TEXT,
	hosted    INTEGER
);
