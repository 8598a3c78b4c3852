#!/bin/sh
echo started > /var/lib/app/state
exec app "$@"
