"""scripts/deploy.sh's helper: reads the wrangler configs, reads wrangler's list output, renders configs.

  deploy_config.py names ENV             the env's resource names from the root wrangler.toml and
                                         functions/platformApi/wrangler.toml, as shell assignments (D1_DB_NAME=... D1_KB_NAME=... VECTORIZE_INDEX=...)
  deploy_config.py find KIND NAME        reads `wrangler <KIND> list` output on stdin and prints NAME's id
                                         (KIND: d1, kv, vectorize, r2, queue; prints nothing when absent; for
                                         vectorize, the index's dimensions)
  deploy_config.py render ENV AS CONFIG...
                                         writes each CONFIG's sibling wrangler.AS.toml (AS: ENV, or
                                         ENV.dry-run) with the "@NAME@" placeholders of [env.ENV] filled
                                         from the environment variables of the same names; fails naming
                                         any placeholder left unset
"""

import json
import os
import re
import sys
import tomllib
from pathlib import Path

PLACEHOLDER = re.compile(r"@([A-Z][A-Z0-9_]*)@")
# Placeholders that may render empty (the feature they configure is then off).
OPTIONAL = {"GITHUB_APP_ID", "GITHUB_INSTALLATION_ID", "GITHUB_ORG"}


def fail(message: str) -> None:
    print(f"deploy: {message}", file=sys.stderr)
    sys.exit(1)


def env_section(path: str, env: str) -> dict:
    config = tomllib.loads(Path(path).read_text())
    return config.get("env", {}).get(env) or fail(f"{path} has no [env.{env}]")


def names(env: str) -> None:
    # The databases and the backups bucket are the site's; the index and the events queues are bound
    # by the API's host (functions/platformApi), which searches and consumes.
    section = env_section("wrangler.toml", env)
    api = env_section("functions/platformApi/wrangler.toml", env)
    d1 = {d["binding"]: d["database_name"] for d in section["d1_databases"]}
    print(f"D1_DB_NAME={d1['DB']}")
    print(f"D1_KB_NAME={d1['KB']}")
    print(f"VECTORIZE_INDEX={api['vectorize'][0]['index_name']}")
    print(f"R2_BACKUPS_BUCKET={section['r2_buckets'][0]['bucket_name']}")
    consumers = api["queues"]["consumers"]
    print(f"EVENTS_QUEUE={api['queues']['producers'][0]['queue']}")
    print(f"EVENTS_DEAD_LETTER_QUEUE={consumers[0]['dead_letter_queue']}")


def json_list(text: str) -> list:
    # wrangler may print a banner or notices before the JSON: start at the first line that opens it.
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.lstrip().startswith("[")), None)
    if start is None:
        fail(f"expected a JSON list from wrangler, got: {text[:300]!r}")
    return json.loads("\n".join(lines[start:]))


def find(kind: str, name: str) -> None:
    text = sys.stdin.read()
    if kind == "r2":
        # `wrangler r2 bucket list` has no JSON mode: "name:  <bucket>" lines.
        found = name in re.findall(r"^name:\s+(\S+)\s*$", text, re.MULTILINE)
        print(name if found else "")
        return
    if kind == "queue":
        # `wrangler queues list` has no JSON mode: a table, one queue a row, its name in a cell.
        cells = {cell.strip() for line in text.splitlines() for cell in re.split(r"[│|]", line)}
        print(name if name in cells else "")
        return
    items = json_list(text)
    if kind == "d1":
        match = [d["uuid"] for d in items if d.get("name") == name]
    elif kind == "kv":
        match = [n["id"] for n in items if n.get("title") == name]
    elif kind == "vectorize":
        match = [str(i["config"]["dimensions"]) for i in items if i.get("name") == name]
    else:
        fail(f"unknown resource kind {kind}")
    print(match[0] if match else "")


def render(env: str, name: str, configs: list[str]) -> None:
    header = re.compile(r"^\s*\[\[?\s*([A-Za-z0-9_.\"-]+?)\s*\]\]?")
    for config in configs:
        source = Path(config)
        lines, missing = [], set()
        in_env = False
        for line in source.read_text().splitlines(keepends=True):
            match = header.match(line)
            if match:
                table = match.group(1)
                in_env = table == f"env.{env}" or table.startswith(f"env.{env}.")
            if in_env:
                def value(m: re.Match) -> str:
                    name = m.group(1)
                    v = os.environ.get(name, "")
                    if not v and name not in OPTIONAL:
                        missing.add(name)
                    # Values go inside TOML basic strings: nothing that could end or escape one.
                    if '"' in v or "\\" in v or "\n" in v:
                        fail(f"{name} holds a character that cannot go into a config: {v!r}")
                    return v
                line = PLACEHOLDER.sub(value, line)
            lines.append(line)
        if missing:
            fail(f"{config}: no value for {', '.join(sorted(missing))} (deploy/{env}.env or the environment)")
        text = "".join(lines)
        rendered = tomllib.loads(text).get("env", {}).get(env)
        if rendered is None:
            fail(f"{config} has no [env.{env}]")
        left = PLACEHOLDER.findall(json.dumps(rendered))
        if left:
            fail(f"{config}: placeholders left in [env.{env}]: {', '.join(sorted(set(left)))}")
        target = source.with_name(f"wrangler.{name}.toml")
        temporary = target.with_name(target.name + ".tmp")
        temporary.write_text(
            f"# Rendered by scripts/deploy.sh from {source.name} for [env.{env}]: do not edit, not committed.\n" + text
        )
        temporary.replace(target)


def main() -> None:
    args = sys.argv[1:]
    if len(args) == 2 and args[0] == "names":
        names(args[1])
    elif len(args) == 3 and args[0] == "find":
        find(args[1], args[2])
    elif len(args) >= 4 and args[0] == "render":
        render(args[1], args[2], args[3:])
    else:
        fail(__doc__)


if __name__ == "__main__":
    main()
