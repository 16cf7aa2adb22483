-- +goose Up
-- Segments and personas (SPEC §6): saved criteria trees, evaluated live
-- (never materialised). criteria is the tree as JSON text (SPEC §12.1); a
-- segment or persona may refer to others, which the criteria engine
-- inlines (refusing cycles). A persona's picture sits in its own table so
-- listing personas never reads images.
CREATE TABLE segments (
    account_id  BIGINT NOT NULL,
    id          BIGINT NOT NULL,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    criteria    TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    updated_by  BIGINT,
    version     BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (account_id, id),
    UNIQUE (account_id, name)
);

CREATE TABLE personas (
    account_id      BIGINT NOT NULL,
    id              BIGINT NOT NULL,
    name            TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    characteristics TEXT NOT NULL DEFAULT '',
    criteria        TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    updated_by      BIGINT,
    version         BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (account_id, id),
    UNIQUE (account_id, name)
);

CREATE TABLE persona_pictures (
    account_id   BIGINT NOT NULL,
    persona_id   BIGINT NOT NULL,
    content_type TEXT NOT NULL,
    data         BYTEA NOT NULL,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (account_id, persona_id)
);

-- An export may target a segment (segment_name: its name when the export
-- started, for the file name and the history label).
ALTER TABLE exports ADD COLUMN segment_id BIGINT;
ALTER TABLE exports ADD COLUMN segment_name TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE exports DROP COLUMN segment_name;
ALTER TABLE exports DROP COLUMN segment_id;
DROP TABLE persona_pictures;
DROP TABLE personas;
DROP TABLE segments;
