#!/usr/bin/env bash
# make demo: local S3 + Prefect + the replica site, one archive run, then where to look.
set -euo pipefail
cd "$(dirname "$0")/.."
NV=.venv/bin/newsvault
REPLICA_PORT=${NEWSVAULT_REPLICA_PORT:-8765}

$NV up
eval "$($NV env)"
$NV replica --detach --port "$REPLICA_PORT"
# The demo archive's signing key (a real archive keeps its key outside the stack's home); the
# local TSA that `newsvault up` started timestamps each run (NEWSVAULT_TSA_URL from `env`).
KEY="${NEWSVAULT_HOME:-.newsvault}/demo-signing-key.pem"
[ -f "$KEY" ] || $NV keygen "$KEY"
export NEWSVAULT_SIGNING_KEY_FILE="$KEY"
echo "archiving the replica at http://127.0.0.1:$REPLICA_PORT/ ..."
$NV run replica --base-url "http://127.0.0.1:$REPLICA_PORT"
$NV ls replica --last
$NV verify replica --quiet || echo "(verify found the problems above: runs archived before signing was on are unsigned)"
cat <<MSG

Done. Where to look:
  Prefect UI:   ${PREFECT_API_URL%/api}/runs   (flow "archive-site", artifacts "replica-run-report")
  Bucket:       s3://$NEWSVAULT_S3_BUCKET/sites/replica/runs/  at $NEWSVAULT_S3_ENDPOINT
  Replica site: http://127.0.0.1:$REPLICA_PORT/
  Evidence:     $NV verify replica   (signatures, RFC 3161 timestamps, digests, state)
  Credentials:  eval "\$($NV env)"      Stop everything: $NV down
MSG
