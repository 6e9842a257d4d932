#!/usr/bin/env python3
"""Lighthouse 12.2.3 over FHIR IQ's main pages, for `make bench` (scripts/bench.sh).

Per page, two runs with Debian's Chromium:
  - mobile (Lighthouse's default: emulated phone, simulated slow 4G and CPU): the performance score
    and CLS;
  - desktop, unthrottled (`--throttling-method=provided`, this machine as it is): LCP, bytes
    transferred and requests.
Each figure is printed next to the previous run's (target/bench/lighthouse-last.json), then saved.
With REFERENCE_URL set (the plain-assets reference of `make bench`), its home page is measured the same
way last: the floor this machine's Chromium sets for the same HTML, CSS and font served with no worker.
Usage: lighthouse.py BASE_URL [PATH ...]
"""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
LAST = os.path.join(ROOT, "target", "bench", "lighthouse-last.json")
PAGES = ["/", "/pricing", "/courses", "/blog", "/chat", "/tools/fhir-builder", "/fhir/R4/Patient"]
CHROME_FLAGS = "--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage"


def run(url, desktop):
    """One Lighthouse run; a second try when Chromium's trace fails (Lighthouse's NO_NAVSTART, now and
    then on a loaded machine)."""
    try:
        return run_once(url, desktop)
    except subprocess.SubprocessError:
        return run_once(url, desktop)


def run_once(url, desktop):
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        command = [
            os.path.join(HERE, "node_modules", ".bin", "lighthouse"), url, "--quiet", "--output=json",
            f"--output-path={out.name}", "--only-categories=performance", f"--chrome-flags={CHROME_FLAGS}",
        ]
        if desktop:
            command += ["--preset=desktop", "--throttling-method=provided"]
        env = dict(os.environ, CHROME_PATH=os.environ.get("CHROME_PATH", "/usr/bin/chromium"))
        done = subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=180)
        if done.returncode != 0:
            lines = [l for l in done.stderr.splitlines() if "error" in l.lower()] or done.stderr.splitlines()
            raise subprocess.SubprocessError(f"exit {done.returncode}: {' | '.join(lines[-3:])}")
        report = json.load(open(out.name))
    audits = report["audits"]
    return {
        "score": report["categories"]["performance"]["score"],
        "lcp_ms": audits["largest-contentful-paint"]["numericValue"],
        "cls": audits["cumulative-layout-shift"]["numericValue"],
        "kb": audits["total-byte-weight"]["numericValue"] / 1000,
        "requests": len(audits["network-requests"]["details"]["items"]),
    }


def main():
    base = sys.argv[1].rstrip("/")
    pages = sys.argv[2:] or PAGES
    last = json.load(open(LAST)) if os.path.exists(LAST) else {}
    now = {}
    try:  # A first run starts Chromium's caches and the workers cold: it is not counted.
        run(base + pages[0], True)
    except subprocess.SubprocessError:
        pass
    columns = [("mobile score", "mobile", "score", "{:.2f}"), ("mobile CLS", "mobile", "cls", "{:.3f}"),
               ("LCP ms", "desktop", "lcp_ms", "{:.0f}"), ("KB", "desktop", "kb", "{:.1f}"),
               ("requests", "desktop", "requests", "{:d}")]
    print(f"{'page':<22}" + "".join(f"{c[0]:>22}" for c in columns) + "   (last run's in brackets)")
    for page in pages:
        try:
            now[page] = {"mobile": run(base + page, False), "desktop": run(base + page, True)}
        except (subprocess.SubprocessError, KeyError, ValueError) as e:
            print(f"{page:<22} lighthouse failed: {e}")
            continue
        cells = []
        for _, run_kind, key, fmt in columns:
            value = fmt.format(now[page][run_kind][key])
            before = last.get(page, {}).get(run_kind, {}).get(key)
            cells.append(f"{value} ({fmt.format(before) if before is not None else '-'})")
        print(f"{page:<22}" + "".join(f"{c:>22}" for c in cells))
    reference = os.environ.get("REFERENCE_URL")
    if reference:
        try:
            floor = {"mobile": run(reference.rstrip("/") + "/", False), "desktop": run(reference.rstrip("/") + "/", True)}
            cells = [fmt.format(floor[kind][key]) for _, kind, key, fmt in columns]
            print(f"{'/ (reference)':<22}" + "".join(f"{c:>22}" for c in cells))
        except (subprocess.SubprocessError, KeyError, ValueError) as e:
            print(f"{'/ (reference)':<22} lighthouse failed: {e}")
    os.makedirs(os.path.dirname(LAST), exist_ok=True)
    json.dump({**last, **now}, open(LAST, "w"), indent=1)


if __name__ == "__main__":
    main()
