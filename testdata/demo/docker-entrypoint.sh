#!/bin/sh
set -e

# Fix the ownership of the data volume, then drop to the app user.
chown -R app:app /app/data
exec gosu app "$@"
