#!/bin/sh
set -e
# Always steps down: started as any other uid, chown and gosu fail.
chown -R app /data
exec gosu app "$0" "$@"
