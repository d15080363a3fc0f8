#!/usr/bin/env bash
# make demo: local S3 + Prefect + the replica site, one archive run, then where to look.
set -euo pipefail
cd "$(dirname "$0")/.."
NV=.venv/bin/newsvault
REPLICA_PORT=${NEWSVAULT_REPLICA_PORT:-8765}

$NV up
eval "$($NV env)"
$NV replica --detach --port "$REPLICA_PORT"
echo "archiving the replica at http://127.0.0.1:$REPLICA_PORT/ ..."
$NV run replica --base-url "http://127.0.0.1:$REPLICA_PORT"
$NV ls replica --last
cat <<MSG

Done. Where to look:
  Prefect UI:   ${PREFECT_API_URL%/api}/runs   (flow "archive-site", artifacts "replica-run-report")
  Bucket:       s3://$NEWSVAULT_S3_BUCKET/sites/replica/runs/  at $NEWSVAULT_S3_ENDPOINT
  Replica site: http://127.0.0.1:$REPLICA_PORT/
  Credentials:  eval "\$($NV env)"      Stop everything: $NV down
MSG
