#!/usr/bin/env bash
# Prints the directory of a real WordPress (the one holding wp-settings.php) for the plugin's
# integration tests (wp-plugin/tests-integration), offline once fetched:
#   - $WOODOO_TEST_WORDPRESS when set;
#   - /usr/share/wordpress when Debian's wordpress package is installed;
#   - else Debian's wordpress package unpacked, not installed (apt-get download + dpkg-deb -x:
#     no web server pulled in, nothing started), kept in ~/.cache/woodoo-tests for the next run.
set -euo pipefail

if [ -n "${WOODOO_TEST_WORDPRESS:-}" ]; then
  echo "$WOODOO_TEST_WORDPRESS"
  exit 0
fi
if dpkg -s wordpress >/dev/null 2>&1 && [ -f /usr/share/wordpress/wp-settings.php ]; then
  echo /usr/share/wordpress
  exit 0
fi

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
candidate() { apt-cache policy wordpress 2>/dev/null | awk '/Candidate:/ {print $2}'; }

version=$(candidate)
if [ -z "$version" ] || [ "$version" = "(none)" ]; then
  as_root apt-get update -qq >&2
  version=$(candidate)
fi
if [ -z "$version" ] || [ "$version" = "(none)" ]; then
  echo "apt knows no wordpress package; cannot fetch WordPress for the integration tests" >&2
  exit 1
fi

cache=${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/woodoo-tests
dir=$cache/wordpress-${version//[^A-Za-z0-9.+-]/_}
if [ ! -f "$dir/usr/share/wordpress/wp-settings.php" ]; then
  mkdir -p "$cache"
  work=$(mktemp -d "$cache/fetch.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  # apt-get download writes into the current directory; as root it warns that it cannot drop
  # privileges to _apt there, which is harmless.
  (cd "$work" && apt-get download "wordpress=$version" >"$work/apt.log" 2>&1) || { cat "$work/apt.log" >&2; exit 1; }
  dpkg-deb -x "$work"/wordpress_*.deb "$work/root"
  rm -rf "$dir"
  mv "$work/root" "$dir"
fi
echo "$dir/usr/share/wordpress"
