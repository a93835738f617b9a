#!/usr/bin/env bash
# A private, throwaway MariaDB server for the plugin's integration tests
# (wp-plugin/tests-integration): never the system's server or its /var/lib/mysql.
#
#   .ci/mariadb.sh start DIR   creates DIR/data (mariadb-install-db) unless it exists, starts
#                              mariadbd on the socket DIR/mysqld.sock with no TCP port, waits for
#                              it (at most 60 s) and prints the socket's path
#   .ci/mariadb.sh stop DIR    stops the server started in DIR (its pid file), waits for it to end
#
# Runs as root too (--user=root: mariadbd refuses root otherwise). root@localhost has no password
# and "normal" authentication, so any local user of the socket may connect: the socket lives in
# DIR, which only its creator can enter (mktemp -d makes it 0700). Durability is traded for speed
# (no doublewrite, no flush at commit): the data is thrown away after the run.
# Needs mariadb-server-core and mariadb-client-core (./dev test installs them).
set -euo pipefail

command=${1:-}
dir=${2:-}
if [ -z "$command" ] || [ -z "$dir" ]; then
  sed -n '2,8p' "$0" >&2
  exit 2
fi

socket=$dir/mysqld.sock
pidfile=$dir/mysqld.pid
log=$dir/mysqld.log

server_options() {
  # Options for both mariadb-install-db and mariadbd: nothing read from /etc/mysql.
  printf '%s\n' --no-defaults "--datadir=$dir/data" "--socket=$socket" --user=root \
    --skip-networking --skip-name-resolve --innodb-buffer-pool-size=64M \
    --innodb-log-file-size=16M --innodb-doublewrite=0 --innodb-flush-log-at-trx-commit=0 \
    --skip-log-bin --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_520_ci
}

case "$command" in
  start)
    mkdir -p "$dir"
    chmod 0700 "$dir"
    if [ ! -d "$dir/data/mysql" ]; then
      mapfile -t options < <(server_options)
      mariadb-install-db "${options[@]}" --auth-root-authentication-method=normal \
        --skip-test-db >"$dir/install.log" 2>&1 || { cat "$dir/install.log" >&2; exit 1; }
    fi
    mapfile -t options < <(server_options)
    # setsid: the server outlives this script, in its own session (stop kills it by its pid).
    setsid mariadbd "${options[@]}" "--pid-file=$pidfile" "--log-error=$log" \
      </dev/null >/dev/null 2>&1 &
    for _ in $(seq 1 600); do
      if mariadb --no-defaults "--socket=$socket" -uroot -e 'SELECT 1' >/dev/null 2>&1; then
        echo "$socket"
        exit 0
      fi
      if ! kill -0 $! 2>/dev/null; then
        echo "mariadbd exited while starting; its log ($log):" >&2
        tail -n 30 "$log" >&2 || true
        exit 1
      fi
      sleep 0.1
    done
    echo "mariadbd did not answer on $socket within 60 s; its log ($log):" >&2
    tail -n 30 "$log" >&2 || true
    kill "$!" 2>/dev/null || true
    exit 1 ;;
  stop)
    [ -f "$pidfile" ] || exit 0
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || exit 0
    for _ in $(seq 1 300); do
      kill -0 "$pid" 2>/dev/null || exit 0
      sleep 0.1
    done
    echo "mariadbd ($pid) did not stop within 30 s; killing it" >&2
    kill -9 "$pid" 2>/dev/null || true ;;
  *)
    sed -n '2,8p' "$0" >&2
    exit 2 ;;
esac
