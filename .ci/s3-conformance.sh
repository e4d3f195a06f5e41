#!/usr/bin/env bash
# The local S3 against a second, independent S3 implementation: moto's server (shipped in this machine's image,
# not a project dependency). The conformance suite runs against each and their answers are compared probe by
# probe; then the `aws` CLI drives our server. Skips, saying so, where moto or the CLI is not installed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

work=$(mktemp -d)
moto_pid=''
s3_pid=''
cleanup() {
  if [ -n "$moto_pid" ]; then kill "$moto_pid" 2>/dev/null || true; fi
  if [ -n "$s3_pid" ]; then kill "$s3_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
wait_for() {
  for _ in $(seq 1 600); do
    if curl -s -o /dev/null "$1"; then return 0; fi
    sleep 0.2
  done
  echo "$1 did not answer" >&2
  return 1
}

if command -v moto_server >/dev/null; then
  port=$(free_port)
  moto_server -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
  moto_pid=$!
  wait_for "http://127.0.0.1:$port/"
  S3_CONFORMANCE_ENDPOINT="http://127.0.0.1:$port" S3_CONFORMANCE_TARGET=moto S3_CONFORMANCE_ANSWERS="$work/moto.json" \
    npx vitest run test/local/s3/conformance.test.ts
  kill "$moto_pid"
  moto_pid=''
  S3_CONFORMANCE_ANSWERS="$work/local.json" npx vitest run test/local/s3/conformance.test.ts
  npx tsx test/local/s3/compare-answers.ts "$work/local.json" "$work/moto.json"
else
  echo "moto_server is not installed: the local S3 was not compared with moto"
fi

if command -v aws >/dev/null; then
  port=$(free_port)
  npx tsx test/local/s3/support/serve.ts "$work/s3" "$port" >"$work/s3.log" 2>&1 &
  s3_pid=$!
  wait_for "http://127.0.0.1:$port/"
  export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_DEFAULT_REGION=eu-west-1 AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
  s3api() { aws --endpoint-url "http://127.0.0.1:$port" s3api "$@"; }
  head -c 300000 /dev/urandom >"$work/image.jpeg"
  aws --endpoint-url "http://127.0.0.1:$port" s3 cp "$work/image.jpeg" "s3://cli-check/inbox/ward 3+4/a.jpeg" --only-show-errors
  aws --endpoint-url "http://127.0.0.1:$port" s3 cp "$work/image.jpeg" "s3://cli-check/inbox/ward 3+4/a.jpeg" --only-show-errors
  # Their own folder: walking "$work" would also walk the server's data folder, whose temporary files vanish
  # mid-walk, and the CLI exits 2 for a file it had to skip.
  mkdir "$work/many"
  for i in $(seq 1 1100); do printf '%s\n' "$i" >"$work/many/many-$i"; done
  aws --endpoint-url "http://127.0.0.1:$port" s3 cp "$work/many" "s3://cli-check/many/" --recursive --only-show-errors
  aws --endpoint-url "http://127.0.0.1:$port" s3 cp "s3://cli-check/inbox/ward 3+4/a.jpeg" "$work/back.jpeg" --only-show-errors
  cmp "$work/image.jpeg" "$work/back.jpeg"
  listed=$(aws --endpoint-url "http://127.0.0.1:$port" s3 ls "s3://cli-check/many/" | wc -l)
  [ "$listed" -eq 1100 ] || { echo "aws s3 ls listed $listed of 1100 keys" >&2; exit 1; }
  versions=$(s3api list-object-versions --bucket cli-check --prefix 'inbox/ward 3+4/' --query 'length(Versions)' --output text)
  [ "$versions" -eq 2 ] || { echo "list-object-versions gave $versions versions of a key uploaded twice" >&2; exit 1; }
  code=$(s3api get-object --bucket cli-check --key 'inbox/ward 3+4/a.jpeg' --version-id bad "$work/x" 2>&1 | grep -o 'InvalidArgument' || true)
  [ "$code" = InvalidArgument ] || { echo "a malformed version id was not InvalidArgument" >&2; exit 1; }
  echo "aws CLI against the local S3: cp (1 100 files, a key needing encoding, twice), ls of 1 100 keys, list-object-versions, errors: ok"
else
  echo "the aws CLI is not installed: the local S3 was not exercised with it"
fi
