#!/bin/sh
# minio's pattern: the switch only happens when the operator sets MINIO_USERNAME (an opt-in).
docker_switch_user() {
	if [ -n "${MINIO_USERNAME}" ] && [ -n "${MINIO_GROUPNAME}" ]; then
		chroot --userspec=${MINIO_UID}:${MINIO_GID} / "$@"
	else
		exec "$@"
	fi
}
docker_switch_user "$@"
