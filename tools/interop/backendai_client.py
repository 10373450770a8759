#!/usr/bin/env python3
"""An independent client for Backend.AI's keypair signing scheme (shared/HMAC.md), written
with the Python standard library only (hmac, hashlib, urllib), to show that a client built to
that scheme talks to Gridline unchanged.

Usage: backendai_client.py URL ACCESS_KEY SECRET_KEY CASE
CASE: ok | wrong-secret | skewed-date | no-version | replay
Prints one JSON line per request: {"case": ..., "status": ..., "body": ...}.
"""
import datetime
import hashlib
import hmac
import json
import sys
import urllib.error
import urllib.parse
import urllib.request

API_VERSION = "v9.20250722"


def sign(secret_key, method, path_and_query, date_text, host, content_type, version):
    body_hash = hashlib.sha256(b"").hexdigest()
    string_to_sign = "\n".join(
        [
            method.upper(),
            path_and_query,
            date_text,
            "host:" + host,
            "content-type:" + content_type.split(";")[0].strip().lower(),
            "x-backendai-version:" + version,
            body_hash,
        ]
    )
    k1 = hmac.new(secret_key.encode(), date_text[:10].replace("-", "").encode(), hashlib.sha256).digest()
    k2 = hmac.new(k1, host.encode(), hashlib.sha256).digest()
    return hmac.new(k2, string_to_sign.encode(), hashlib.sha256).hexdigest()


def request(base, access_key, secret_key, path, now=None, version=API_VERSION, method="GET", headers_out=None):
    url = urllib.parse.urlsplit(base)
    host = url.netloc
    now = now or datetime.datetime.now(datetime.timezone.utc)
    date_text = now.isoformat()
    content_type = "application/json"
    signature = sign(secret_key, method, path, date_text, host, content_type, version or API_VERSION)
    headers = {
        "Authorization": "BackendAI signMethod=HMAC-SHA256, credential=%s:%s" % (access_key, signature),
        "Date": date_text,
        "Content-Type": content_type,
        "Host": host,
    }
    if version is not None:
        headers["X-BackendAI-Version"] = version
    if headers_out is not None:
        headers_out.update(headers)
    return send(base, path, method, headers)


def send(base, path, method, headers):
    req = urllib.request.Request(base + path, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            return res.status, json.loads(res.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


def main():
    base, access_key, secret_key, case = sys.argv[1:5]
    path = "/api/v1/whoami"
    results = []
    if case == "ok":
        results.append(request(base, access_key, secret_key, path))
        results.append(request(base, access_key, secret_key, "/v1/models?x=1"))
    elif case == "wrong-secret":
        results.append(request(base, access_key, "W" * 40, path))
    elif case == "skewed-date":
        results.append(request(base, access_key, secret_key, path, now=datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=16)))
    elif case == "no-version":
        results.append(request(base, access_key, secret_key, path, version=None))
    elif case == "replay":
        sent = {}
        results.append(request(base, access_key, secret_key, path, headers_out=sent))
        results.append(send(base, path, "GET", sent))
    else:
        raise SystemExit("unknown case " + case)
    for status, body in results:
        print(json.dumps({"case": case, "status": status, "body": body}))


if __name__ == "__main__":
    main()
