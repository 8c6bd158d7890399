#!/usr/bin/env bash
# Start the servers the tests talk to (PostgreSQL, Redis, NATS with JetStream) when they are
# not already running. Tests never skip a missing server: they fail, so start them here.
set -euo pipefail

up() { timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

wait_for() {
  local name=$1 port=$2
  for _ in $(seq 1 60); do up "$port" && { echo "$name up on $port"; return 0; }; sleep 0.5; done
  echo "error: $name did not come up on 127.0.0.1:$port" >&2
  return 1
}

if ! up 5432; then
  if command -v pg_ctlcluster >/dev/null; then
    version=$(ls /etc/postgresql | sort -V | tail -1)
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  elif command -v pg_ctl >/dev/null; then
    pg_ctl start -D "${PGDATA:?set PGDATA}" -l /tmp/postgres.log
  else
    echo "error: PostgreSQL is not running and no pg_ctlcluster/pg_ctl to start it" >&2; exit 1
  fi
fi
wait_for PostgreSQL 5432

if ! up 6379; then
  if command -v redis-server >/dev/null; then
    mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
      --dir /tmp --logfile /tmp/redis-ci.log
  else
    echo "error: Redis is not running and redis-server is not installed" >&2; exit 1
  fi
fi
wait_for Redis 6379

if ! up 4222; then
  if command -v nats-server >/dev/null; then
    mkdir -p /tmp/nats-js
    nohup nats-server -a 127.0.0.1 -p 4222 -js -sd /tmp/nats-js -l /tmp/nats-ci.log >/dev/null 2>&1 &
  else
    echo "error: NATS is not running and nats-server is not installed" >&2; exit 1
  fi
fi
wait_for NATS 4222
