#!/usr/bin/env bash
# Starts N atelier API processes on 127.0.0.1:3001..300N behind NGINX on 127.0.0.1:3000.
# Needs DATABASE_URL and nginx (apt-get install nginx). Ctrl-C stops everything.
set -euo pipefail
n=${1:-2}
here=$(cd "$(dirname "$0")" && pwd)
atelier=${ATELIER:-$here/../.venv/bin/atelier}
: "${DATABASE_URL:?set DATABASE_URL}"
command -v nginx >/dev/null || { echo "nginx is not installed (apt-get install nginx)" >&2; exit 1; }
: > /tmp/atelier-upstreams.conf
pids=()
for i in $(seq 1 "$n"); do
  port=$((3000 + i))
  echo "server 127.0.0.1:$port max_fails=1 fail_timeout=2s;" >> /tmp/atelier-upstreams.conf
  "$atelier" serve --port "$port" --workers 1 &
  pids+=($!)
done
for i in $(seq 1 "$n"); do  # wait until every API process answers
  for _ in $(seq 1 100); do
    curl -fs -o /dev/null "http://127.0.0.1:$((3000 + i))/openapi.json" && break
    sleep 0.1
  done
done
trap 'kill ${pids[*]} 2>/dev/null; nginx -c "$here/nginx.conf" -s quit 2>/dev/null; exit 0' INT TERM
nginx -c "$here/nginx.conf"
echo "nginx on http://127.0.0.1:3000 -> $n API processes" >&2
wait
