"""A client of `sfmtls fake-org` written against Python's standard library
HTTP stack (http.client, urllib.request, ssl), as a user in another language
would write one: the JWT bearer flow (the signature by openssl, which the
standard library lacks), then the API on instance_url as given, then on the
instance's host with the mutual TLS port. It prints what it saw as JSON for
the Go test to check; it asserts nothing itself."""

import base64
import http.client
import json
import os
import ssl
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request


def b64(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


env = os.environ
ctx = ssl.create_default_context(cafile=env["SF_CA_FILE"])
ctx.load_cert_chain(env["MTLS_CERT"], env["MTLS_KEY"])

# The JWT bearer flow (Salesforce Help, "OAuth 2.0 JWT Bearer Flow for
# Server-to-Server Integration"), over mutual TLS to the login URL.
header = b64(json.dumps({"alg": "RS256"}).encode())
claims = b64(json.dumps({
    "iss": env["SF_CONSUMER_KEY"], "sub": env["SF_USERNAME"],
    "aud": "https://login.salesforce.com", "exp": int(time.time()) + 120,
}).encode())
signed = subprocess.run(["openssl", "dgst", "-sha256", "-sign", env["JWT_KEY"]],
                        input=(header + "." + claims).encode(), capture_output=True, check=True, timeout=30).stdout
login = urllib.parse.urlsplit(env["SF_LOGIN_URL"])
conn = http.client.HTTPSConnection(login.hostname, login.port, context=ctx, timeout=20)
conn.request("POST", "/services/oauth2/token",
             urllib.parse.urlencode({"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                                     "assertion": header + "." + claims + "." + b64(signed)}),
             {"Content-Type": "application/x-www-form-urlencoded"})
resp = conn.getresponse()
token = json.loads(resp.read())
conn.close()
out = {"token_status": resp.status, "instance_url": token.get("instance_url")}

opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=ctx))


def call(base, path, body=None):
    req = urllib.request.Request(base + path, method="POST" if body is not None else "GET",
                                 headers={"Authorization": "Bearer " + token["access_token"],
                                          "Content-Type": "application/json"},
                                 data=json.dumps(body).encode() if body is not None else None)
    try:
        with opener.open(req, timeout=20) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


version = "/services/data/v" + env["API_VERSION"]
soql = "?q=" + urllib.parse.quote("SELECT Name FROM Account ORDER BY Name")

# instance_url as given: on Salesforce, port 443.
out["as_given"] = call(token["instance_url"], version + "/query/" + soql)

# The instance's host with the mutual TLS port, as one puts :8443 in.
inst = urllib.parse.urlsplit(token["instance_url"])
api = "https://" + inst.hostname + ":" + env["SF_MTLS_PORT"]
status, page = call(api, version + "/query/" + soql)
out["query_status"] = status
out["query_names"] = [r["Name"] for r in page.get("records", [])]
out["create"] = call(api, version + "/sobjects/Account/", {"Name": "From Python"})
status, page = call(api, version + "/query/" + soql)
out["names_after"] = [r["Name"] for r in page.get("records", [])]
print(json.dumps(out))
