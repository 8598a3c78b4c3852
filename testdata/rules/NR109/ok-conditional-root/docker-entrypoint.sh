#!/bin/sh
set -e
# The docker-library pattern: the step-down only runs when started as root; started as
# another uid (runAsUser, OpenShift) the script goes on as that uid.
if [ "$(id -u)" = '0' ]; then
	chown -R app /data
	exec gosu app "$0" "$@"
fi
exec "$@"
