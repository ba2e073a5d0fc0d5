#!/bin/sh
# Runs once, when the primary's data directory is first created (docker-entrypoint-initdb.d):
# lets the optional read replica (docker-compose.yml, profile "replica") stream from it.
# An existing data directory: append the same line to its pg_hba.conf and reload.
set -e
echo "host replication ${POSTGRES_USER} all scram-sha-256" >> "$PGDATA/pg_hba.conf"
