#!/bin/sh
# Makes the webhook's serving certificate without cert-manager: a private CA
# (kept while valid, so the webhook's caBundle does not change on renewal)
# and a server certificate for the injector's Service, signed by it.
# Usage: generate-certs.sh [output dir, default: tls/ beside this script]
# Env: NAMESPACE (default sidekey-system), SERVICE (default sidekey-injector),
#      DAYS (server certificate validity, default 365).
set -eu
dir=${1:-"$(dirname "$0")/tls"}
namespace=${NAMESPACE:-sidekey-system}
service=${SERVICE:-sidekey-injector}
days=${DAYS:-365}
umask 077
mkdir -p "$dir"

if ! [ -s "$dir/ca.key" ] || ! openssl x509 -in "$dir/ca.crt" -noout -checkend $((days * 86400)) >/dev/null 2>&1; then
  openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
    -keyout "$dir/ca.key" -out "$dir/ca.crt" -days 3650 -subj "/CN=${service}-ca" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
fi

openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
  -keyout "$dir/tls.key" -out "$dir/tls.csr" -subj "/CN=${service}.${namespace}.svc" 2>/dev/null
cat >"$dir/tls.ext" <<EXT
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=DNS:${service}.${namespace}.svc,DNS:${service}.${namespace}.svc.cluster.local
EXT
openssl x509 -req -in "$dir/tls.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial \
  -out "$dir/tls.crt" -days "$days" -sha256 -extfile "$dir/tls.ext" 2>/dev/null
rm -f "$dir/tls.csr" "$dir/tls.ext" "$dir/ca.srl"
echo "wrote $dir/ca.crt, $dir/tls.crt, $dir/tls.key (and the CA key $dir/ca.key: keep it safe)" >&2
