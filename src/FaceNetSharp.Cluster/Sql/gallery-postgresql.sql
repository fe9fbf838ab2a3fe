-- The cluster gallery's durable store (FaceNetSharp.Cluster). Idempotent; applied under an advisory lock.
-- meta: model_id, dimensions (set by the first client that enrols), shards (fixed when the schema is created).
CREATE TABLE IF NOT EXISTS facenet_meta (key text PRIMARY KEY, value text NOT NULL);

-- One row per shard. Every write to a shard first updates its row (version + 1), which holds the row's lock until
-- commit: writers of one shard take turns, so its faces' ids are committed in increasing order and a shard grain can
-- load "ids above the last one I read". A removal also moves generation on: the grain reloads the whole shard.
CREATE TABLE IF NOT EXISTS facenet_shards (
    shard integer PRIMARY KEY,
    version bigint NOT NULL DEFAULT 0,
    generation bigint NOT NULL DEFAULT 0);

CREATE TABLE IF NOT EXISTS facenet_people (
    id bigserial PRIMARY KEY,
    name text NOT NULL UNIQUE,
    shard integer NOT NULL);

-- vector: float32 little-endian, unit length (as the SQLite gallery stores it); added_at: ISO 8601 UTC text, as the
-- SQLite gallery and its JSON export write it, so that an export of either reads back the same.
CREATE TABLE IF NOT EXISTS facenet_faces (
    id bigserial PRIMARY KEY,
    shard integer NOT NULL,
    person_id bigint NOT NULL REFERENCES facenet_people (id) ON DELETE CASCADE,
    model text NOT NULL,
    vector bytea NOT NULL,
    source text,
    added_at text NOT NULL);
CREATE INDEX IF NOT EXISTS facenet_faces_shard_id ON facenet_faces (shard, id);
CREATE INDEX IF NOT EXISTS facenet_faces_person ON facenet_faces (person_id);
