#!/usr/bin/env bash
# demo.sh is `make demo`: the whole job on loopback. It builds the provider and the uploader, starts moto (S3, IAM
# and STS), applies examples/quickstart with the freshly built provider, migrates a generated media tree and its
# SQLite table, shows the report and a few public URLs, then runs the uploader again to show there is nothing left,
# and ends with a direct upload: uploader serve-signer signs a form and curl posts a PNG with it to the bucket.
# Everything lives in .demo/; `make demo-clean` (or `bash .ci/demo.sh clean`) stops the engine and removes it.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
demo=$root/.demo

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

stop_engine() {
  if [ -f "$demo/signer.pid" ]; then
    kill "$(cat "$demo/signer.pid")" 2>/dev/null || true
    rm -f "$demo/signer.pid"
  fi
  if [ -f "$demo/moto.pid" ]; then
    kill "$(cat "$demo/moto.pid")" 2>/dev/null || true
    rm -f "$demo/moto.pid"
  fi
}

if [ "${1:-}" = clean ]; then
  stop_engine
  rm -rf "$demo"
  echo "demo: cleaned"
  exit 0
fi

command -v terraform >/dev/null || { echo "demo: terraform not found: install terraform >= 1.11" >&2; exit 1; }
command -v moto_server >/dev/null || { echo "demo: moto_server not found: pip install 'moto[server]'" >&2; exit 1; }
command -v python3 >/dev/null || { echo "demo: python3 not found (it generates the sample images and database)" >&2; exit 1; }

stop_engine
rm -rf "$demo"
mkdir -p "$demo/bin" "$demo/media" "$demo/tf"
trap stop_engine EXIT
trap 'exit 130' INT TERM PIPE

step "Building terraform-provider-staticmedia and uploader"
go build -o "$demo/bin/terraform-provider-staticmedia" ./provider
go build -o "$demo/bin/uploader" ./uploader

step "Starting moto (S3 + IAM + STS) on 127.0.0.1"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
endpoint="http://127.0.0.1:$port"
moto_server -H 127.0.0.1 -p "$port" >"$demo/moto.log" 2>&1 &
echo $! >"$demo/moto.pid"
for _ in $(seq 100); do curl -fsS "$endpoint/moto-api/" >/dev/null 2>&1 && break; sleep 0.1; done
echo "moto at $endpoint (log: .demo/moto.log)"

step "Terraform: dev_overrides point staticmedia/staticmedia at the fresh build"
cat >"$demo/terraformrc" <<RC
provider_installation {
  dev_overrides {
    "registry.terraform.io/staticmedia/staticmedia" = "$demo/bin"
  }
  direct {}
}
RC
export TF_CLI_CONFIG_FILE="$demo/terraformrc" TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1
# Local engines accept any credentials; on AWS these come from your profile or environment.
export AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo-secret AWS_REGION=us-east-1
cp examples/quickstart/*.tf "$demo/tf/"
cat >"$demo/tf/terraform.tfvars" <<TFVARS
bucket       = "staticmedia-demo"
site_domains = ["example.com"]
key_prefix   = "media/"
s3_endpoint  = "$endpoint"
iam_endpoint = "$endpoint"
TFVARS
(cd "$demo/tf" && terraform apply -auto-approve -no-color 2>&1 | grep -vE '^\s*$' | grep -E 'Creat|Apply complete|Warning|Error|│' | head -40)

step "Generating a media tree and the application's SQLite table (images.on_s3 = false)"
python3 - "$demo/media" "$demo/app.db" <<'PY'
import os, random, sqlite3, struct, sys, zlib
root, db = sys.argv[1], sys.argv[2]
random.seed(42)
def png(w, h, rgb):
    raw = b"".join(b"\x00" + bytes(rgb) * w for _ in range(h))
    def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
con = sqlite3.connect(db)
con.execute("CREATE TABLE images (id INTEGER PRIMARY KEY, path TEXT NOT NULL, on_s3 BOOLEAN NOT NULL DEFAULT 0)")
n = 0
for user in range(1, 6):
    for i in range(8):
        rel = f"users/{user}/photo-{i}.png"
        os.makedirs(os.path.join(root, os.path.dirname(rel)), exist_ok=True)
        with open(os.path.join(root, rel), "wb") as f:
            f.write(png(random.randint(16, 96), random.randint(16, 96), [random.randrange(256) for _ in range(3)]))
        con.execute("INSERT INTO images (path, on_s3) VALUES (?, 0)", (rel,))
        n += 1
# A record whose file is gone: reported as missing, never flagged.
con.execute("INSERT INTO images (path, on_s3) VALUES (?, 0)", ("users/9/deleted-long-ago.png",))
con.commit()
print(f"{n} images under .demo/media, {n+1} rows in .demo/app.db (one points at a file that no longer exists)")
PY

migrate() {
  (cd "$demo/tf" && terraform output -json) | "$demo/bin/uploader" migrate --tf-output - \
    --source "$demo/media" --db "sqlite:$demo/app.db" --table images --path-column path --flag-column on_s3 \
    --report "$demo/report-$1.json" --progress never
}

step "First run: terraform output -json | uploader migrate --tf-output - ..."
set +e; migrate 1; code=$?; set -e
echo "exit code $code (0: all pending work done; the missing file is reported, not fatal)"
echo "report: $(cat "$demo/report-1.json")"

step "The database now says which images are on S3"
python3 - "$demo/app.db" <<'PY'
import sqlite3, sys
con = sqlite3.connect(sys.argv[1])
done, total = con.execute("SELECT SUM(on_s3), COUNT(*) FROM images").fetchone()
print(f"{done} of {total} rows have on_s3 = true")
for (p,) in con.execute("SELECT path FROM images WHERE on_s3 LIMIT 3"):
    print("  flagged:", p)
PY

step "A few public URLs (the site links these instead of its local copies)"
base=$(cd "$demo/tf" && terraform output -raw public_base_url)
for p in users/1/photo-0.png users/2/photo-3.png users/5/photo-7.png; do
  url="${base}media/$p"
  code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Referer: https://www.example.com/gallery' "$url")
  echo "  $url -> HTTP $code"
done
echo "(moto serves these without evaluating the Referer policy; MinIO and AWS do evaluate it: see make test)"

step "uploader verify: GET each public copy as a browser would and compare it with the local file"
# moto does not evaluate bucket policies, so only the allowed-Referer GET and the byte comparison are meaningful
# here; against AWS (or MinIO) leave --foreign-referer at its default so a foreign Referer must get 403. The allowed
# Referer comes from the output's allowed_referers (the policy's referer_patterns).
(cd "$demo/tf" && terraform output -json) | "$demo/bin/uploader" verify --tf-output - \
  --source "$demo/media" --db "sqlite:$demo/app.db" --table images --path-column path --flag-column on_s3 \
  --foreign-referer "" --expect-no-referer skip --report "$demo/verify.json"
echo "verify report: $(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print({k:v for k,v in r.items() if not isinstance(v,(list,dict))})' "$demo/verify.json")"

step "Second run: nothing left to do"
set +e; migrate 2; code=$?; set -e
echo "exit code $code"
echo "report: $(cat "$demo/report-2.json")"

step "Direct upload, no browser: uploader serve-signer signs a form, curl posts it straight to the bucket"
# The site's back end would call /sign after its own login check; the browser would post the form with fetch.
(cd "$demo/tf" && terraform output -json) >"$demo/tf-output.json"
chmod 600 "$demo/tf-output.json"
token=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
sport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
signer="http://127.0.0.1:$sport"
UPLOADER_SIGNER_TOKEN=$token "$demo/bin/uploader" serve-signer --tf-output "$demo/tf-output.json" \
  --key-prefix media/incoming/ --max-bytes 1MiB --listen "127.0.0.1:$sport" >"$demo/signer.log" 2>&1 &
echo $! >"$demo/signer.pid"
for _ in $(seq 100); do curl -s -o /dev/null "$signer/sign" && break; sleep 0.1; done
echo "serve-signer at $signer (log: .demo/signer.log), bearer token in UPLOADER_SIGNER_TOKEN"
photo="$demo/media/users/3/photo-1.png"
size=$(wc -c <"$photo")
# The token reaches curl on stdin (printf is a builtin), never on a command line the process list shows.
auth() { printf 'Authorization: Bearer %s\n' "$token"; }
code=$(auth | curl -s -o "$demo/refused.json" -w '%{http_code}' -H @- -H 'Content-Type: application/json' \
  -d '{"content_type":"image/svg+xml","size":100}' "$signer/sign")
echo "POST /sign for an SVG -> HTTP $code $(cat "$demo/refused.json")"
auth | curl -fsS -H @- -H 'Content-Type: application/json' \
  -d "{\"content_type\":\"image/png\",\"size\":$size}" "$signer/sign" >"$demo/form.json"
python3 - "$demo/form.json" <<'PY'
import json, sys
f = json.load(open(sys.argv[1]))
print("POST /sign for a PNG -> a form for key", f["key"], "until", f["expires"])
print("  fields:", ", ".join(sorted(f["fields"])))
PY
# One -F per field, in the form's order, then the file last.
mapfile -d '' fields < <(python3 -c 'import json,sys; [sys.stdout.write("-F\0%s=%s\0" % kv) for kv in json.load(open(sys.argv[1]))["fields"].items()]' "$demo/form.json")
url=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["url"])' "$demo/form.json")
key=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["key"])' "$demo/form.json")
code=$(curl -s -o "$demo/answer.xml" -w '%{http_code}' "${fields[@]}" -F "file=@$photo;type=image/png" "$url")
if [ "$code" != 201 ]; then
  echo "demo: the bucket refused the form (HTTP $code): $(cat "$demo/answer.xml")" >&2
  exit 1
fi
echo "curl -F ... $url -> HTTP 201 Created"
ctype=$(curl -s -o /dev/null -w '%{content_type}' "${base}$key")
echo "  ${base}$key is served as $ctype"

step "Done. Terraform state and files are in .demo/; make demo-clean removes them."
