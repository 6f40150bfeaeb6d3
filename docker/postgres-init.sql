-- Creates the goalwatch store beside Airflow's metadata database, on the same Postgres.
--
-- Mounted by docker-compose.yml into the postgres service's /docker-entrypoint-initdb.d, so the
-- official postgres image runs it once, with psql as $POSTGRES_USER, and only when the data
-- volume is empty: to rerun it, `docker compose down --volumes` (this deletes both databases).
--
-- The password is read from the container's environment (psql's \getenv, PostgreSQL 15+) so no
-- secret is written in this file. docker-compose.yml requires GOALWATCH_DB_PASSWORD (from .env;
-- it has no default) and passes it through; the check below stops initdb with a clear message
-- if this file is run without it anyway, instead of creating a role with an empty password.
-- A separate role keeps goalwatch's tables out of reach of a leaked Airflow connection string
-- and the other way round.

\set ON_ERROR_STOP on
\getenv goalwatch_password GOALWATCH_DB_PASSWORD

\if :{?goalwatch_password}
  SELECT :'goalwatch_password' = '' AS goalwatch_password_empty \gset
\else
  \set goalwatch_password_empty true
\endif
\if :goalwatch_password_empty
  DO $$ BEGIN
    RAISE EXCEPTION 'GOALWATCH_DB_PASSWORD is unset or empty in the postgres container';
  END $$;
\endif

CREATE ROLE goalwatch LOGIN PASSWORD :'goalwatch_password';
CREATE DATABASE goalwatch OWNER goalwatch;
REVOKE ALL ON DATABASE goalwatch FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE goalwatch TO goalwatch;
