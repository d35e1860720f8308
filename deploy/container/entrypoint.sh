#!/bin/sh
# namesrv's container entrypoint (POSIX sh: Alpine's busybox, dash or bash).
#
#   (no arguments) | namesrv [ARGS] | mqnamesrv [ARGS] | sh mqnamesrv [ARGS]
#       the NameServer, with -c $ROCKETMQ_HOME/conf/namesrv.properties unless
#       ARGS give -c; Java's image is started with `sh mqnamesrv`.
#   mqcontroller [ARGS]         the controller alone (namesrv --controller)
#   namesrv-admin|mqadmin ARGS  the admin tool; it reads NAMESRV_ADDR itself
#   -...                        options for the NameServer
#   anything else               run as given
#
# JAVA_OPT, JAVA_OPT_EXT and HEAP_OPTS (read by Java's image) mean nothing
# here: they are ignored, with one line saying so.
#
# The embedded controller's own id (controllerDLegerSelfId): from
# NAMESRV_CONTROLLER_SELF_ID if set; else, with
# NAMESRV_CONTROLLER_SELF_ID_FROM_HOSTNAME=true (a StatefulSet), n<ordinal>
# from a host name ending in -<ordinal> (namesrv-2 -> n2), matching the
# n0, n1, ... ids of controllerDLegerPeers.
set -eu

log() { echo "namesrv-entrypoint: $*" >&2; }

ignored=""
[ -n "${JAVA_OPT:-}" ] && ignored="$ignored JAVA_OPT"
[ -n "${JAVA_OPT_EXT:-}" ] && ignored="$ignored JAVA_OPT_EXT"
[ -n "${HEAP_OPTS:-}" ] && ignored="$ignored HEAP_OPTS"
[ -n "$ignored" ] && log "ignored (no JVM in this image):$ignored"

conf="${ROCKETMQ_HOME:-/home/rocketmq}/conf/namesrv.properties"

self_id="${NAMESRV_CONTROLLER_SELF_ID:-}"
if [ -z "$self_id" ] && [ "${NAMESRV_CONTROLLER_SELF_ID_FROM_HOSTNAME:-false}" = true ]; then
    host="${HOSTNAME:-$(hostname)}"
    ordinal="${host##*-}"
    case "$ordinal" in
        "" | *[!0-9]*)
            log "host name '$host' does not end in -<ordinal>; cannot derive controllerDLegerSelfId"
            exit 64
            ;;
    esac
    self_id="n$ordinal"
fi

# Runs the NameServer (or the controller with --controller) with the
# image's configuration file unless the arguments name one.
run_namesrv() {
    has_conf=false
    for arg in "$@"; do
        case "$arg" in
            -c | --configFile | --configFile=*) has_conf=true ;;
        esac
    done
    if [ "$has_conf" = false ]; then
        set -- -c "$conf" "$@"
    fi
    if [ -n "$self_id" ]; then
        log "controllerDLegerSelfId=$self_id"
        set -- "$@" -D "controllerDLegerSelfId=$self_id"
    fi
    exec namesrv "$@"
}

if [ "$#" -eq 0 ]; then
    run_namesrv
fi
case "$1" in
    sh | bash)
        case "${2:-}" in
            mqnamesrv | */mqnamesrv) shift 2; run_namesrv "$@" ;;
        esac
        exec "$@"
        ;;
    namesrv | mqnamesrv | */mqnamesrv) shift; run_namesrv "$@" ;;
    mqcontroller | */mqcontroller) shift; run_namesrv --controller "$@" ;;
    mqadmin | */mqadmin | namesrv-admin) shift; exec namesrv-admin "$@" ;;
    -*) run_namesrv "$@" ;;
    *) exec "$@" ;;
esac
