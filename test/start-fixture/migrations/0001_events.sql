-- The queue consumer's sink.
CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL);
CREATE INDEX events_body ON events (body);
