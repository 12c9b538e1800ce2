#!/usr/bin/env bash
# Makes sure PostgreSQL and RabbitMQ run on this machine (Debian), installing them if absent.
# Used by `make run`, `make test` and CI; idempotent and quiet when both already run.
set -euo pipefail

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v pg_ctlcluster >/dev/null || ! command -v rabbitmq-server >/dev/null; then
  echo "==> installing postgresql and rabbitmq-server (Debian packages)"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq postgresql rabbitmq-server >/dev/null
fi

# The clock tests run a gateway at a chosen instant under libfaketime.
if ! command -v faketime >/dev/null; then
  echo "==> installing faketime (Debian package; the clock tests use it)"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq faketime >/dev/null
fi

# The alert rules' test (tests/test_k8s_observability.py) runs promtool, from Debian's
# prometheus package. Only the binary is taken: installing the package would also enable a
# Prometheus server on every address, where systemd runs.
if ! command -v promtool >/dev/null; then
  echo "==> installing promtool (from Debian's prometheus package; the alert rules' test uses it)"
  tmp=$(mktemp -d)
  if ! (cd "$tmp" && apt-get download -qq prometheus >/dev/null 2>&1); then
    as_root apt-get update -qq
    (cd "$tmp" && apt-get download -qq prometheus >/dev/null 2>&1)
  fi
  dpkg-deb --fsys-tarfile "$tmp"/prometheus_*.deb | tar -x -C "$tmp" ./usr/bin/promtool
  as_root install -m 0755 "$tmp/usr/bin/promtool" /usr/local/bin/promtool
  rm -rf "$tmp"
fi

if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  echo "==> starting PostgreSQL"
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
pg_isready -q -h 127.0.0.1 -p 5432 || { echo "PostgreSQL did not start: see /var/log/postgresql/" >&2; exit 1; }

# The platform connects as the postgres role over TCP; a fresh Debian cluster asks for a
# password there, so trust loopback connections the way the project's machines are set up.
if ! psql -h 127.0.0.1 -U postgres -Atc 'select 1' >/dev/null 2>&1; then
  echo "==> allowing trusted loopback connections to PostgreSQL (local development only)"
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  hba=/etc/postgresql/$version/main/pg_hba.conf
  as_root sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main reload
fi

# Several local platforms (the tests start three cities, the benchmarks one more) each hold
# a pool per service: the Debian default of 100 connections is too few on one machine.
if [ "$(psql -h 127.0.0.1 -U postgres -Atc 'show max_connections')" -lt 500 ]; then
  echo "==> raising PostgreSQL's max_connections to 500 (local development) and restarting it"
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  psql -h 127.0.0.1 -U postgres -qc 'ALTER SYSTEM SET max_connections = 500'
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main restart
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi

if ! rabbitmqctl -q status >/dev/null 2>&1; then
  echo "==> starting RabbitMQ (this takes a few seconds)"
  as_root rabbitmq-server -detached
  as_root rabbitmqctl -q await_startup --timeout 120 >/dev/null 2>&1 || \
    as_root timeout 120 rabbitmqctl -q wait --pid "$(pgrep -f beam.smp | head -n 1)" >/dev/null
fi
rabbitmqctl -q status >/dev/null 2>&1 || { echo "RabbitMQ did not start: see /var/log/rabbitmq/" >&2; exit 1; }
