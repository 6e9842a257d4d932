"""scripts/deploy.sh against a fake account: `python3 tests/deploy/test_deploy.py` (make deploy-check runs it).

Each test copies the deploy script, the real wrangler configs, deploy/*.env and scripts/migrate.sh into
a scratch git repository, with tests/deploy/fake_wrangler.py as its wrangler and recording stand-ins
for the build, knowledge-base and content scripts, then deploys and reads what happened: the order of
the steps, the resources created, the ids in the rendered configs, the smoke check against a local
HTTP server. The last test runs the real wrangler on an un-rendered config.
"""

import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import tomllib
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "0123456789abcdef0123456789abcdef"
# Every function worker, as scripts/env.sh lists them for the build and the deploy.
FUNCTIONS = [w for w in re.search(r'^WORKERS="([^"]*)"', (ROOT / "scripts/env.sh").read_text(), re.M).group(1).split()
             if w != "site"]
# A stand-in for scripts/build.sh, kb.sh and content.sh: records its name, arguments and embedding setting.
RECORDER = """#!/usr/bin/env bash
python3 -c 'import json,os,sys; print(json.dumps({"cmd": sys.argv[1], "args": sys.argv[2:],
  "embedding": os.environ.get("EMBEDDING_PROVIDER")}))' "$(basename "$0" .sh)" "$@" >>"$FAKE_LOG"
"""


class Health(http.server.BaseHTTPRequestHandler):
    """The deployed site's /_functions/health, as the smoke check sees it."""

    answer = (200, {"status": "ok"})
    log: Path

    def do_GET(self):
        with open(self.log, "a") as log:
            log.write(json.dumps({"cmd": "smoke", "path": self.path}) + "\n")
        status, body = self.answer
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


class DeployTest(unittest.TestCase):
    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="fhiriq-deploy-"))
        self.addCleanup(shutil.rmtree, self.tmp)
        self.repo = self.tmp / "repo"
        self.log = self.tmp / "calls.jsonl"
        self.state = self.tmp / "account.json"
        for path in ["scripts/deploy.sh", "scripts/deploy_config.py", "scripts/env.sh", "scripts/migrate.sh",
                     "wrangler.toml", ".gitignore", "deploy/staging.env", "deploy/production.env"] + [
                     f"functions/{w}/wrangler.toml" for w in FUNCTIONS]:
            (self.repo / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / path, self.repo / path)
        for stub in ["build", "kb", "content"]:
            (self.repo / f"scripts/{stub}.sh").write_text(RECORDER)
            (self.repo / f"scripts/{stub}.sh").chmod(0o755)
        (self.repo / "node_modules/.bin").mkdir(parents=True)
        shutil.copy2(ROOT / "tests/deploy/fake_wrangler.py", self.repo / "node_modules/.bin/wrangler")
        self.git("init", "-q")
        self.git("add", "-A")
        self.git("commit", "-q", "-m", "release")

        Health.log = self.log
        Health.answer = (200, {"status": "ok", "checks": {"d1": "ok", "kv": "ok"}})
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Health)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.addCleanup(self.server.server_close)
        self.addCleanup(self.server.shutdown)

    def git(self, *args):
        return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.test", *args],
                              cwd=self.repo, check=True, capture_output=True, text=True).stdout.strip()

    def deploy(self, *args, **env):
        # This Python's own directory first: a version manager's `python3` shim can cost half a second a call.
        base = {"PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "HOME": str(self.tmp),
                "FAKE_LOG": str(self.log),
                "FAKE_WRANGLER_STATE": str(self.state), "CLOUDFLARE_ACCOUNT_ID": ACCOUNT,
                "SITE_URL": f"http://127.0.0.1:{self.server.server_port}", "SMOKE_WAIT_SECONDS": "0",
                "SMOKE_ATTEMPTS": "2"}
        return subprocess.run(["scripts/deploy.sh", *args], cwd=self.repo, capture_output=True, text=True,
                              env={**base, **env})

    def calls(self):
        return [json.loads(line) for line in self.log.read_text().splitlines()] if self.log.exists() else []

    def account(self):
        return json.loads(self.state.read_text())

    def passed_tests(self):
        result = self.deploy("--record-tests-passed")
        self.assertEqual(result.returncode, 0, result.stderr)

    def assertDeployed(self, result):
        self.assertEqual(result.returncode, 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}")

    # -- the tests step ---------------------------------------------------------------------------

    def test_without_passing_tests_nothing_is_deployed(self):
        result = self.deploy(ENV="staging")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("make test", result.stderr)
        self.assertEqual(self.calls(), [], "nothing may run before the tests check")

    def test_a_tree_with_uncommitted_changes_is_refused_even_after_tests_passed(self):
        self.passed_tests()
        (self.repo / "functions/health/wrangler.toml").write_text("# edited after the tests\n")
        result = self.deploy(ENV="production")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("uncommitted", result.stderr)
        self.assertEqual(self.calls(), [])

    def test_a_stamp_for_another_commit_is_refused_and_the_ci_commit_is_accepted(self):
        self.passed_tests()
        (self.repo / "NEW").write_text("x")
        self.git("add", "NEW")
        self.git("commit", "-q", "-m", "later")
        self.assertNotEqual(self.deploy(ENV="staging").returncode, 0)
        self.assertDeployed(self.deploy(ENV="staging", TESTS_PASSED_SHA=self.git("rev-parse", "HEAD")))

    # -- a first deploy, and a rerun --------------------------------------------------------------

    def test_a_first_deploy_creates_the_resources_and_runs_every_step_in_order(self):
        self.passed_tests()
        result = self.deploy(ENV="staging")
        self.assertDeployed(result)
        calls = self.calls()

        def first(predicate, what):
            index = next((i for i, c in enumerate(calls) if predicate(c)), None)
            self.assertIsNotNone(index, f"{what} never ran: {calls}")
            return index

        def last(predicate, what):
            first(predicate, what)
            return max(i for i, c in enumerate(calls) if predicate(c))

        wrangler = lambda *words: lambda c: c["cmd"] == "wrangler" and c["args"][: len(words)] == list(words)
        deploys = [c for c in calls if c["cmd"] == "wrangler" and c["args"][0] == "deploy"]
        order = [
            ("build", first(lambda c: c["cmd"] == "build", "build"), last(lambda c: c["cmd"] == "build", "build")),
            ("resources", first(wrangler("d1", "list"), "d1 list"), last(wrangler("queues"), "queues")),
            ("migrations", first(wrangler("d1", "migrations"), "migrations"),
             last(wrangler("d1", "migrations"), "migrations")),
            ("kb", first(lambda c: c["cmd"] == "kb", "kb"), last(lambda c: c["cmd"] == "kb", "kb")),
            ("content", first(lambda c: c["cmd"] == "content", "content"),
             last(lambda c: c["cmd"] == "content", "content")),
            ("functions", first(wrangler("deploy"), "deploy"), calls.index(deploys[-2])),
            ("site", calls.index(deploys[-1]), calls.index(deploys[-1])),
            ("smoke", first(lambda c: c["cmd"] == "smoke", "smoke"), last(lambda c: c["cmd"] == "smoke", "smoke")),
        ]
        for (before, _, end), (after, start, _) in zip(order, order[1:]):
            self.assertLess(end, start, f"{before} must finish before {after} starts: {calls}")

        # What was created, by name, with the model's dimensions.
        account = self.account()
        self.assertEqual(sorted(account["d1"]), ["fhir-iq-kb-staging", "fhir-iq-staging"])
        self.assertEqual(list(account["kv"]), ["fhir-iq-cache-staging"])
        self.assertEqual(account["vectorize"], {"fhir-iq-knowledge-staging": 768})
        self.assertEqual(account["r2"], ["fhir-iq-backups-staging"])
        self.assertEqual(account["queues"], ["fhir-iq-events-staging", "fhir-iq-events-dlq-staging"])

        # Every worker deployed from its rendered config, under its staging name, the site last.
        self.assertEqual([option(c["args"], "-c") for c in deploys],
                         [f"functions/{w}/wrangler.staging.toml" for w in FUNCTIONS] + ["wrangler.staging.toml"])
        self.assertTrue(all(option(c["args"], "--env") == "staging" for c in deploys))
        self.assertEqual(account["deployed"][-1], "fhir-iq-staging-site")
        self.assertTrue(all(name.startswith("fhir-iq-staging-") for name in account["deployed"]))

        # The ids reached every rendered config, and the record.
        for config in ["wrangler.toml"] + [f"functions/{w}/wrangler.toml" for w in FUNCTIONS]:
            rendered = self.repo / config.replace("wrangler.toml", "wrangler.staging.toml")
            section = tomllib.loads(rendered.read_text())["env"]["staging"]
            self.assertEqual(section["account_id"], ACCOUNT, config)
            ids = {d["binding"]: d["database_id"] for d in section["d1_databases"]}
            self.assertEqual(ids["DB"], account["d1"]["fhir-iq-staging"], config)
            if "KB" in ids:
                self.assertEqual(ids["KB"], account["d1"]["fhir-iq-kb-staging"], config)
            self.assertEqual(section["kv_namespaces"][0]["id"], account["kv"]["fhir-iq-cache-staging"], config)
            # The production section of a staging render keeps its placeholders: it cannot be deployed.
            production = tomllib.loads(rendered.read_text())["env"]["production"]
            self.assertEqual(production["account_id"], "@CLOUDFLARE_ACCOUNT_ID@", config)
        record = (self.repo / "deploy/staging.ids").read_text()
        self.assertIn(account["d1"]["fhir-iq-staging"], record)
        self.assertIn(account["kv"]["fhir-iq-cache-staging"], record)

        # Content and the knowledge base went to the rendered config's staging databases, never a
        # developer's embedding settings; without a token, no vectors.
        for step in ["kb", "content"]:
            args = next(c for c in calls if c["cmd"] == step)["args"]
            self.assertIn("--remote", args, step)
            self.assertEqual((option(args, "-c"), option(args, "--env")), ("wrangler.staging.toml", "staging"), step)
        self.assertEqual(next(c for c in calls if c["cmd"] == "kb")["embedding"], "none")
        self.assertIn("/_functions/health", [c["path"] for c in calls if c["cmd"] == "smoke"])

        # One line per step, and nothing left uncommitted for the next deploy to trip on.
        self.assertIn("smoke", result.stdout.splitlines()[-1])
        self.assertEqual(self.git("status", "--porcelain"), "")

    def test_a_rerun_creates_nothing_and_keeps_the_ids(self):
        self.passed_tests()
        self.assertDeployed(self.deploy(ENV="production"))
        before = self.account()
        self.log.unlink()
        self.assertDeployed(self.deploy(ENV="production"))
        self.assertEqual(self.account()["d1"], before["d1"])
        self.assertEqual(self.account()["kv"], before["kv"])
        created = [c["args"] for c in self.calls() if c["cmd"] == "wrangler" and "create" in c["args"]]
        self.assertEqual(created, [])
        self.assertEqual(sorted(before["d1"]), ["fhir-iq", "fhir-iq-kb"])
        self.assertIn("fhir-iq-site", before["deployed"])

    def test_a_pinned_id_is_used_and_a_token_embeds_into_the_environments_index(self):
        # An existing database under another name, pinned in deploy/production.env.
        legacy = "11111111-2222-4333-8444-555555555555"
        self.state.write_text(json.dumps({"d1": {"fhiriq-legacy": legacy}, "kv": {}, "vectorize": {}, "r2": [],
                                          "deployed": [], "migrated": []}))
        env_file = self.repo / "deploy/production.env"
        env_file.write_text(env_file.read_text().replace("\nD1_DB_ID=\n", f"\nD1_DB_ID={legacy}\n"))
        self.git("commit", "-q", "-am", "pin the database")
        self.passed_tests()
        self.assertDeployed(self.deploy(ENV="production", WORKERS_AI_API_TOKEN="token-for-the-fake"))
        self.assertEqual(sorted(self.account()["d1"]), ["fhir-iq-kb", "fhiriq-legacy"], "fhir-iq is not created")
        for config in ["wrangler.production.toml", "functions/health/wrangler.production.toml"]:
            section = tomllib.loads((self.repo / config).read_text())["env"]["production"]
            self.assertEqual(section["d1_databases"][0]["database_id"], legacy, config)
        kb = next(c for c in self.calls() if c["cmd"] == "kb")
        self.assertEqual(kb["embedding"], "workers-ai")
        self.assertEqual(option(kb["args"], "--vectorize"), "fhir-iq-knowledge")

    def test_an_index_of_another_size_stops_the_deploy(self):
        self.state.write_text(json.dumps({"d1": {}, "kv": {}, "vectorize": {"fhir-iq-knowledge": 384}, "r2": [],
                                          "deployed": [], "migrated": []}))
        self.passed_tests()
        result = self.deploy(ENV="production")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("384 dimensions", result.stderr)
        self.assertEqual(self.account()["deployed"], [])

    # -- the smoke check --------------------------------------------------------------------------

    def test_an_unhealthy_site_fails_the_deploy(self):
        for answer in [(503, {"status": "down"}), (200, {"status": "degraded"})]:
            with self.subTest(answer=answer):
                Health.answer = answer
                self.passed_tests()
                result = self.deploy(ENV="staging")
                self.assertNotEqual(result.returncode, 0)
                self.assertIn("smoke", result.stderr)

    # -- settings ---------------------------------------------------------------------------------

    def test_without_an_account_nothing_is_created(self):
        self.passed_tests()
        result = self.deploy(ENV="staging", CLOUDFLARE_ACCOUNT_ID="")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("CLOUDFLARE_ACCOUNT_ID", result.stderr)
        self.assertEqual([c for c in self.calls() if c["cmd"] == "wrangler"], [])

    def test_an_unknown_environment_is_refused(self):
        result = self.deploy(ENV="prod")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("staging or production", result.stderr)


class UnrenderedConfigTest(unittest.TestCase):
    """A raw `wrangler deploy --env production` of a committed config, with the real wrangler."""

    def test_the_real_wrangler_refuses_the_placeholder_account_before_any_upload(self):
        wrangler = ROOT / "node_modules/.bin/wrangler"
        self.assertTrue(wrangler.exists(), "run scripts/setup.sh (npm ci) first")
        home = Path(tempfile.mkdtemp(prefix="fhiriq-wrangler-home-"))
        self.addCleanup(shutil.rmtree, home)
        for config in ["wrangler.toml", "functions/health/wrangler.toml"]:
            with self.subTest(config=config):
                # A token is set, as in CI, so wrangler gets as far as choosing the account.
                result = subprocess.run(
                    [str(wrangler), "deploy", "--env", "production", "-c", config], cwd=ROOT, capture_output=True,
                    text=True, timeout=120,
                    env={"PATH": f"{ROOT}/node_modules/.bin:{os.environ['PATH']}", "HOME": str(home), "CI": "true",
                         "CLOUDFLARE_API_TOKEN": "not-a-real-token", "CLOUDFLARE_ACCOUNT_ID": ACCOUNT,
                         "WRANGLER_SEND_METRICS": "false", "CLOUDFLARE_CF_FETCH_ENABLED": "false"})
                output = result.stdout + result.stderr
                self.assertNotEqual(result.returncode, 0, output)
                self.assertIn('Invalid account ID "@CLOUDFLARE_ACCOUNT_ID@"', output)


def option(args, name):
    return next((args[i + 1] for i, a in enumerate(args[:-1]) if a == name), None)


if __name__ == "__main__":
    unittest.main(verbosity=2 if "-v" in sys.argv else 1)
