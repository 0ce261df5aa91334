-- media: the seed's shape, an integer id and a boolean flag (SQLite stores it as 0/1), with
-- the optional etag and upload-time columns.
CREATE TABLE media (
	id          INTEGER PRIMARY KEY,
	file_path   TEXT,
	hosted      BOOLEAN,
	etag        TEXT,
	uploaded_at TEXT
);

-- media_text: a text id, whose order differs from the numbers in it, and an integer flag.
CREATE TABLE media_text (
	code      TEXT PRIMARY KEY,
	file_path TEXT,
	hosted    INTEGER
);
