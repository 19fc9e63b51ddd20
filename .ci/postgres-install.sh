#!/bin/sh
# Makes PostgreSQL server binaries available for the test harness
# (test/support/postgres.ts), which looks in /usr/lib/postgresql/*/bin.
# Idempotent: does nothing when they are already there. Installs Debian's
# `postgresql` package otherwise, without starting or keeping the packaged
# cluster running. Ensures a `postgres` system user exists (the harness runs
# PostgreSQL as that user when the tests run as root).
set -eu

have_postgres() {
  for f in /usr/lib/postgresql/*/bin/postgres; do
    [ -x "$f" ] && return 0
  done
  return 1
}

if ! have_postgres; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "postgres-install: no PostgreSQL in /usr/lib/postgresql and no apt-get; install PostgreSQL server binaries" >&2
    exit 1
  fi
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  # Keep the package's maintainer scripts from starting a cluster (policy-rc.d),
  # and from creating one at all (createcluster.conf).
  policy=/usr/sbin/policy-rc.d
  created_policy=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
    $SUDO chmod 755 "$policy"
    created_policy=1
  fi
  $SUDO mkdir -p /etc/postgresql-common
  if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
    echo 'create_main_cluster = false' | $SUDO tee /etc/postgresql-common/createcluster.conf >/dev/null
  fi
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  [ -n "$created_policy" ] && $SUDO rm -f "$policy"
  have_postgres || { echo "postgres-install: installation did not provide /usr/lib/postgresql/*/bin/postgres" >&2; exit 1; }
fi

if ! id postgres >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO useradd --system --user-group --home-dir /var/lib/postgresql --shell /usr/sbin/nologin postgres
fi

ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1
