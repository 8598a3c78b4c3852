#!/bin/sh
set -e
if [ "$(id -u)" = "0" ]; then
  chown -R db /var/lib/db
  exec gosu db "$@"
fi
exec "$@"
