{%- if p.smart %}
import base64
import hashlib
import urllib.parse

from fhir_app import auth


def test_pkce_challenge_is_the_base64url_sha256_of_the_verifier():
    pair = auth.pkce()
    assert len(pair.verifier) >= 43
    digest = base64.urlsafe_b64encode(hashlib.sha256(pair.verifier.encode()).digest()).rstrip(b"=").decode()
    assert pair.challenge == digest


def test_discovery_the_authorize_url_and_the_code_exchange(fhir):
    smart = auth.discover(fhir.url)
    assert smart["token_endpoint"] == f"{fhir.url}/auth/token"
    url = urllib.parse.urlsplit(auth.authorize_url(
        smart,
        client_id="my-app",
        redirect_uri="http://localhost:3000/callback",
        scope="{{ p.scope }}",
        state="state-1",
        challenge="challenge-1",
        aud=fhir.url,
{%- if p.ehr %}
        launch="launch-token-1",
{%- endif %}
    ))
    params = dict(urllib.parse.parse_qsl(url.query))
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{fhir.url}/auth/authorize"
    assert params["response_type"] == "code"
    assert params["code_challenge_method"] == "S256"
    assert params["aud"] == fhir.url
{%- if p.ehr %}
    assert params["launch"] == "launch-token-1"
{%- endif %}
    token = auth.exchange_code(smart, code="code-1", redirect_uri="http://localhost:3000/callback", client_id="my-app", verifier="verifier-1")
    assert token["access_token"] == "test-access-token"
    sent = dict(urllib.parse.parse_qsl(fhir.requests[-1]["body"]))
    assert sent["grant_type"] == "authorization_code"
    assert sent["code_verifier"] == "verifier-1"
{%- endif %}
{%- if p.backend %}
import urllib.parse

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from fhir_app import auth

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PEM = KEY.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()


def test_the_client_assertion_is_an_rs384_jwt_with_the_claims_smart_asks_for():
    token = auth.client_assertion(client_id="svc", token_url="https://auth.example/token", private_key_pem=PEM, key_id="k1", now=1_700_000_000)
    assert jwt.get_unverified_header(token) == {"alg": "RS384", "typ": "JWT", "kid": "k1"}
    claims = jwt.decode(token, KEY.public_key(), algorithms=["RS384"], audience="https://auth.example/token", options={"verify_exp": False})
    assert claims["iss"] == claims["sub"] == "svc"
    assert claims["exp"] == 1_700_000_300
    assert claims["jti"]


def test_the_token_is_requested_with_client_credentials_and_reused(fhir):
    source = auth.token_source(client_id="svc", token_url=auth.discover_token_url(fhir.url), private_key_pem=PEM, scope="{{ p.scope }}")
    assert source() == "test-access-token"
    assert source() == "test-access-token"
    token_requests = [r for r in fhir.requests if r["path"] == "/auth/token"]
    assert len(token_requests) == 1, "cached"
    sent = dict(urllib.parse.parse_qsl(token_requests[0]["body"]))
    assert sent["grant_type"] == "client_credentials"
    assert sent["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
{%- endif %}
{%- if p.none %}
from fhir_app import auth


def test_an_open_server_gets_no_token():
    assert auth.no_token() is None
{%- endif %}
