-- sidekey roles and database. Run once as a superuser (or a role with
-- CREATEROLE and CREATEDB), with psql:
--
--   psql "host=db.internal dbname=postgres user=postgres sslmode=verify-full" -f roles.sql
--
-- Re-running is harmless. No role has a password: each logs in only with a
-- client certificate whose CN is the role name (pg_hba.conf: hostssl … cert).
-- To use other names, edit the three names below and pass --sidecar-role to
-- `sidekey migrate`.

-- Sidecars: read keys and ORK records, insert/read/delete tokens, append audit
-- events, record themselves in the fleet registry (sidekey_sidecars: insert,
-- update) and read the numbered changes they acknowledge (sidekey_changes).
-- Its table privileges are granted by `sidekey migrate`, not here; `sidekey
-- doctor` checks them.
select 'create role sidekey login'
 where not exists (select from pg_roles where rolname = 'sidekey')\gexec

-- Operators and the sidekey CLI: own the schema, run migrations, create
-- tenants, issue/revoke ORKs, rotate keys.
select 'create role sidekey_ops login'
 where not exists (select from pg_roles where rolname = 'sidekey_ops')\gexec

alter role sidekey password null;
alter role sidekey_ops password null;

select 'create database sidekey owner sidekey_ops'
 where not exists (select from pg_database where datname = 'sidekey')\gexec

-- Only sidekey's roles may connect to its database.
revoke all on database sidekey from public;
grant connect, temporary on database sidekey to sidekey_ops;
grant connect on database sidekey to sidekey;

\connect sidekey
-- PostgreSQL 15+ already keeps CREATE on schema public from PUBLIC; older
-- versions need this so the sidecar role cannot create objects.
revoke create on schema public from public;
grant usage on schema public to sidekey;
-- The operator role owns the schema's objects (it runs the migrations).
grant all on schema public to sidekey_ops;
