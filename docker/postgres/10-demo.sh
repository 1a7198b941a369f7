#!/bin/sh
# Creates the `demo` database for the built-in `sql` job type on the first start of the postgres container.
set -e
psql -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d "$POSTGRES_DB" -c 'CREATE DATABASE demo'
psql -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d demo -f /demo/demo-schema.sql
