#!/usr/bin/env python3
"""A fake `wrangler` for tests/deploy/test_deploy.py: the commands scripts/deploy.sh runs against an account.

It keeps the account in a JSON file ($FAKE_WRANGLER_STATE), appends every call to $FAKE_LOG, prints
list output in wrangler 4's formats, and refuses what Cloudflare would refuse: a D1 database named
neither by binding nor by name in the environment's config, ids or an account that are not the
account's, a service binding to a worker not deployed yet, a placeholder left in a config.
Anything else it was not written for fails, so a new call in deploy.sh must be added here on purpose.
"""

import json
import os
import re
import sys
import tomllib
import uuid
from pathlib import Path

STATE = Path(os.environ["FAKE_WRANGLER_STATE"])
EMPTY = {"d1": {}, "kv": {}, "vectorize": {}, "r2": [], "queues": [], "deployed": [], "migrated": []}


def load() -> dict:
    return json.loads(STATE.read_text()) if STATE.exists() else json.loads(json.dumps(EMPTY))


def save(state: dict) -> None:
    STATE.write_text(json.dumps(state, indent=2))


def refuse(message: str) -> None:
    print(f"✘ [ERROR] {message}", file=sys.stderr)
    sys.exit(1)


def option(args: list[str], name: str) -> str | None:
    for i, arg in enumerate(args):
        if arg == name and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def env_section(args: list[str]) -> tuple[str, dict]:
    config, env = option(args, "-c"), option(args, "--env")
    if not config or not env:
        refuse(f"the fake expects -c CONFIG --env ENV: {args}")
    parsed = tomllib.loads(Path(config).read_text())
    section = parsed.get("env", {}).get(env)
    if section is None:
        refuse(f"{config} has no [env.{env}]")
    left = re.findall(r"@[A-Z0-9_]+@", json.dumps(section))
    if left:
        refuse(f"{config} [env.{env}] still holds placeholders {left}")
    if section.get("account_id") != os.environ.get("CLOUDFLARE_ACCOUNT_ID"):
        refuse(f"{config} [env.{env}] account_id {section.get('account_id')!r} is not the account")
    return config, section


def main() -> None:
    args = sys.argv[1:]
    with open(os.environ["FAKE_LOG"], "a") as log:
        log.write(json.dumps({"cmd": "wrangler", "args": args}) + "\n")
    if not os.environ.get("CLOUDFLARE_ACCOUNT_ID"):
        refuse("no account: set CLOUDFLARE_ACCOUNT_ID")
    state = load()
    words = [a for a in args if not a.startswith("-")]

    if args[:3] == ["d1", "list", "--json"]:
        print(json.dumps([{"uuid": u, "name": n, "created_at": "2026-12-01T00:00:00.000Z", "version": "production",
                           "num_tables": 0, "file_size": 12288} for n, u in state["d1"].items()], indent=2))
    elif words[:2] == ["d1", "create"]:
        name = words[2]
        if name in state["d1"]:
            refuse(f"A database with that name already exists [code: 7502]")
        state["d1"][name] = str(uuid.uuid4())
        print(f"✅ Successfully created DB '{name}' in region WNAM")
    elif args[:3] == ["kv", "namespace", "list"]:
        print(json.dumps([{"id": i, "title": t, "supports_url_encoding": True} for t, i in state["kv"].items()],
                         indent="  "))
    elif words[:3] == ["kv", "namespace", "create"]:
        title = words[3]
        if title in state["kv"]:
            refuse("a namespace with this account ID and title already exists [code: 10014]")
        state["kv"][title] = uuid.uuid4().hex
        print(f'🌀 Creating namespace with title "{title}"\n✨ Success!')
    elif args[:3] == ["vectorize", "list", "--json"]:
        print(json.dumps([{"created_on": "2026-12-01T00:00:00.000000Z", "modified_on": "2026-12-01T00:00:00.000000Z",
                           "name": n, "description": "", "config": {"dimensions": d, "metric": "cosine"}}
                          for n, d in state["vectorize"].items()], indent=2))
    elif words[:2] == ["vectorize", "create"]:
        name, dimensions = words[2], option(args, "--dimensions")
        if option(args, "--metric") != "cosine" or not dimensions:
            refuse(f"vectorize create needs --dimensions and --metric=cosine: {args}")
        state["vectorize"][name] = int(dimensions)
        print(f"✅ Successfully created a new Vectorize index: '{name}'")
    elif args[:3] == ["r2", "bucket", "list"]:
        print("\n ⛅️ wrangler 4.164.0\n───────────────────\nListing buckets...")
        print("\n\n".join(f"name:           {b}\ncreation_date:  2026-12-01T00:00:00.000Z" for b in state["r2"]))
    elif words[:3] == ["r2", "bucket", "create"]:
        state["r2"].append(words[3])
        print(f"Creating bucket '{words[3]}'...\n✅ Created bucket '{words[3]}' with default storage class of Standard.")
    elif args[:2] == ["queues", "list"]:
        # wrangler's table (logger.table): a header row, then one row a queue.
        rows = [("id", "name", "created_on")] + [(uuid.uuid5(uuid.NAMESPACE_DNS, q).hex, q, "2026-12-01T00:00:00Z")
                                                 for q in state.setdefault("queues", [])]
        print("\n".join("│ " + " │ ".join(row) + " │" for row in rows))
    elif words[:2] == ["queues", "create"]:
        if words[2] in state.setdefault("queues", []):
            refuse(f"A queue with this name already exists [code: 11009]")
        state["queues"].append(words[2])
        print(f"🌀 Creating queue '{words[2]}'\n✅ Created queue '{words[2]}'")
    elif words[:3] == ["d1", "migrations", "apply"]:
        if "--remote" not in args:
            refuse(f"the fake only answers remote migrations: {args}")
        database = words[3]
        config, section = env_section(args)
        match = [d for d in section.get("d1_databases", []) if database in (d["binding"], d["database_name"])]
        if not match:
            refuse(f"Couldn't find a D1 DB with the name or binding '{database}' in your {config} file.")
        if match[0]["database_id"] not in state["d1"].values():
            refuse(f"database {match[0]['database_id']} is not on this account")
        state["migrated"].append(match[0]["database_id"])
        print("✅ 0001_baseline.sql")
    elif words[:1] == ["deploy"] and "--dry-run" not in args:
        config, section = env_section(args)
        for d in section.get("d1_databases", []):
            if d["database_id"] not in state["d1"].values():
                refuse(f"binding {d['binding']}: D1 database {d['database_id']} not found [code: 10021]")
            if d["database_id"] not in state["migrated"]:
                refuse(f"binding {d['binding']}: deployed before its database was migrated")
        for k in section.get("kv_namespaces", []):
            if k["id"] not in state["kv"].values():
                refuse(f"binding {k['binding']}: KV namespace {k['id']} is not valid [code: 10041]")
        for v in section.get("vectorize", []):
            if v["index_name"] not in state["vectorize"]:
                refuse(f"binding {v['binding']}: Vectorize index {v['index_name']} not found")
        for b in section.get("r2_buckets", []):
            if b["bucket_name"] not in state["r2"]:
                refuse(f"binding {b['binding']}: R2 bucket {b['bucket_name']} not found [code: 10085]")
        queues = section.get("queues", {})
        for q in queues.get("producers", []) + queues.get("consumers", []):
            if q["queue"] not in state.get("queues", []):
                refuse(f"Queue \"{q['queue']}\" does not exist. To create it, run: wrangler queues create {q['queue']}")
        for s in section.get("services", []):
            if s["service"] not in state["deployed"]:
                refuse(f"binding {s['binding']}: could not resolve service binding to {s['service']} [code: 10143]")
        if section["name"] not in state["deployed"]:
            state["deployed"].append(section["name"])
        print(f"Uploaded {section['name']}\nDeployed {section['name']} triggers")
    else:
        refuse(f"the fake wrangler was not written for: wrangler {' '.join(args)}")
    save(state)


if __name__ == "__main__":
    main()
