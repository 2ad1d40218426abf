#!/usr/bin/env bash
# Starts a redis-server for `omnicap detect --queue` / `omnicap worker`, in the foreground:
#   bash scripts/start-redis.sh [PORT] [DATA_DIR] [BIND]
# Defaults: port 6379, data in ./redis-data, bound to 127.0.0.1 (pass 0.0.0.0 or a LAN address, and
# set a password with --requirepass in REDIS_EXTRA, for workers on other machines).
# Persistence: append-only file with fsync every second (a restart loses at most ~1 s of queue
# state; jobs whose updates were lost are redone: lines are written once either way) and no RDB
# snapshots. `redis-server` comes from Debian (scripts/setup.sh installs it).
set -euo pipefail
PORT="${1:-6379}"
DIR="${2:-redis-data}"
BIND="${3:-127.0.0.1}"
mkdir -p "$DIR"
# shellcheck disable=SC2086
exec redis-server --port "$PORT" --bind "$BIND" --dir "$DIR" --appendonly yes --appendfsync everysec \
  --save '' --daemonize no --maxmemory-policy noeviction ${REDIS_EXTRA:-}
