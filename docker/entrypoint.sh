#!/bin/sh
# Container entrypoint: runs the given command, but refuses to serve the web app on a non-loopback address unless
# a login is set in MOCKINTERVIEW_AUTH (user:password). The password is never printed.
set -eu

fail() {
    echo "mockinterview-entrypoint: $1" >&2
    exit 64
}

# The host that `mockinterview serve` would bind, from --host VALUE or --host=VALUE (default: loopback).
serve_host() {
    host=127.0.0.1
    while [ "$#" -gt 0 ]; do
        case "$1" in
            --host=*) host=${1#--host=} ;;
            --host)
                [ "$#" -ge 2 ] || fail "--host needs a value."
                host=$2
                shift
                ;;
        esac
        shift
    done
    printf '%s' "$host"
}

is_loopback() {
    case "$1" in
        127.* | localhost | ::1 | "[::1]") return 0 ;;
        *) return 1 ;;
    esac
}

check_auth() {
    auth=${MOCKINTERVIEW_AUTH:-}
    [ -n "$auth" ] || fail "refusing to serve on $1 without a login: set MOCKINTERVIEW_AUTH=user:password \
(for example docker run -e MOCKINTERVIEW_AUTH=...), or bind --host 127.0.0.1."
    user=${auth%%:*}
    password=${auth#*:}
    if [ "$user" = "$auth" ] || [ -z "$user" ] || [ -z "$password" ]; then
        fail "MOCKINTERVIEW_AUTH must be user:password, with neither part empty."
    fi
}

[ "$#" -gt 0 ] || set -- mockinterview serve --host 0.0.0.0 --port 7860

if [ "$1" = "mockinterview" ] && [ "${2:-}" = "serve" ]; then
    host=$(serve_host "$@")
    is_loopback "$host" || check_auth "$host"
fi

exec "$@"
