#!/bin/sh
# Starts PostgreSQL on 127.0.0.1:$1 (host network: the test picks a free port), superuser
# standin/standin. Durability is relaxed: tests need speed, and a container is thrown away after its suite.
set -eu
PORT="${1:?usage: standin-postgres <port>}"
BIN="$(ls -d /usr/lib/postgresql/*/bin | tail -1)"
mkdir -p /var/run/postgresql && chown postgres /var/run/postgresql
exec su postgres -c "$BIN/postgres -D /var/lib/postgresql/standin -c listen_addresses=127.0.0.1 -c port=$PORT \
  -c unix_socket_directories=/var/run/postgresql -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
  -c max_connections=200 -c shared_buffers=64MB"
