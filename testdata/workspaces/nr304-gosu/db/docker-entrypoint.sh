#!/bin/sh
set -e
# Always steps down: started as any other uid, chown and gosu fail.
chown -R db /var/lib/db
exec gosu db "$@"
