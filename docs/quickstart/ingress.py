"""The same first event posted to the gateway's HTTPS ingress, as a partner registry that
runs no Kafka client does (uses publish.py beside it). Set, besides publish.py's
REGISTRY_ID, SIGNING_KEY_FILE, SIGNING_KEY_ID, A6GW_API_URL and TLS_* (your client
certificate, whose common name is your registry id):
  A6GW_INGRESS_URL   the ingress, e.g. https://a6gw.example.org:8444 (as the gateway knows it)
"""

import base64
import hashlib
import os
import secrets
import time

import httpx
from publish import find_in_audit_log, first_event, signing_key, tls_client

event_id, body = first_event()
url = os.environ["A6GW_INGRESS_URL"].rstrip("/") + "/v1/events"
headers = {
    "Content-Type": "application/json",
    "Idempotency-Key": event_id,
    # RFC 9530: the body's digest, which the signature covers
    "Content-Digest": f"sha-256=:{base64.b64encode(hashlib.sha256(body).digest()).decode()}:",
}
# RFC 9421 §2.3, §2.5: the covered components, then the signature parameters (a fresh nonce)
covered = ("@method", "@target-uri", "content-digest", "content-type", "idempotency-key")
params = "(" + " ".join(f'"{c}"' for c in covered) + ")"
params += f';created={int(time.time())};keyid="{os.environ["SIGNING_KEY_ID"]}"'
params += f';alg="ed25519";nonce="{secrets.token_hex(16)}"'
values = {"@method": "POST", "@target-uri": url} | {k.lower(): v for k, v in headers.items()}
base = "".join(f'"{c}": {values[c]}\n' for c in covered) + f'"@signature-params": {params}'
signature = base64.b64encode(signing_key().sign(base.encode())).decode()
headers |= {"Signature-Input": f"a6gw={params}", "Signature": f"a6gw=:{signature}:"}

answer = httpx.post(url, content=body, headers=headers, verify=tls_client())
print(f"ingress: {answer.status_code} {answer.text}")  # 202 once it is on a6.in.<registry>
answer.raise_for_status()
source = os.environ["REGISTRY_ID"]
find_in_audit_log(f"/v1/search?event={event_id}&source={source}")
