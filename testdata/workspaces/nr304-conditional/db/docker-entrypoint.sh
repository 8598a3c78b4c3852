#!/bin/sh
set -e
# The docker-library pattern: the step-down only runs when started as root; started as
# runAsUser 999 the script goes on as 999. Switching user is opt-in too (SWITCH_USER).
if [ "$(id -u)" = "0" ]; then
  chown -R db /var/lib/db
  exec gosu db "$@"
fi
if [ -n "$SWITCH_USER" ]; then
  exec su-exec "$SWITCH_USER" "$@"
fi
exec "$@"
