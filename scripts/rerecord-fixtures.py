#!/usr/bin/env python3
"""Re-record replay fixtures (tests/fixtures/replay/*.json) by exploring.

After a change of the kernel paths a stored schedule may diverge. For each
fixture named on the command line (default: every one whose replay diverges
or no longer shows its outcome), `ext4lab replay LINK --refind --kind KIND
--json` explores the link's variant and options for the same outcome kind
and the fixture takes the shortest schedule found (link, tasks,
preemptions). Never edit a link by hand. Then run
`UPDATE_FIXTURES=1 cargo test --test kernel_replay` to record the trace
hashes, and `node scripts/gen-timelines.mjs` for the docs.

Stored links elsewhere (tests/fixtures/jbd2/*.txt, read by
tests/crash_replay_fixtures.rs) that were copies of a re-recorded fixture's
link are replaced by its new link; any other stored link there that no
longer replays is named, to be re-made. So are copies in the docs' playground
links (README.md, docs/*.md, docs/scenarios/*.md: `index.html#v3....`, which
tests/scenario_docs.rs requires to open on today's built-ins); every other
doc link whose built-in's text changed is re-made from the same variant,
options and outcome kind, with the fewest preemptions, and the script says
whether its schedule is the old one.

New fixtures: `scripts/rerecord-fixtures.py --new SCENARIO VARIANT KIND
[NAME=VALUE...]` (SCENARIO: a built-in id) explores with `ext4lab explore --json` and writes
tests/fixtures/replay/<id>-<variant>-<options or default>-<kind>.json.

Usage: scripts/rerecord-fixtures.py [--bin PATH] [FIXTURE.json...]
"""
import base64
import json
import os
import re
import subprocess
import sys
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIR = os.path.join(ROOT, "tests", "fixtures", "replay")


def run(binary, args):
    p = subprocess.run([binary] + args, capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def replays(binary, link, kind, tasks):
    code, out, _ = run(binary, ["replay", link, "--json"])
    if code != 0:
        return False
    d = json.loads(out)
    if d.get("diverged"):
        return False
    return any(o["kind"] == kind and all(t in o["tasks"] for t in tasks) for o in d["outcome"])


# Old link -> new link of every fixture re-recorded in this run.
RENEWED = {}
# Stored links that copy a replay fixture's (one link per file).
COPIES = os.path.join(ROOT, "tests", "fixtures", "jbd2")


def rerecord(binary, path):
    fx = json.load(open(path))
    if replays(binary, fx["link"], fx["kind"], fx["tasks"]):
        return False
    old = fx["link"]
    code, out, err = run(binary, ["replay", fx["link"], "--refind", "--kind", fx["kind"], "--json"])
    if code == 0:
        d = json.loads(out)
        fx["link"] = d["link"]
        fx["tasks"] = sorted(d["tasks"])
        fx["preemptions"] = d["preemptions"]
    elif "has changed since the link was made" in err:
        # The built-in's text changed: explore it afresh for the outcome.
        opts = [f"{k}={v}" for k, v in sorted(fx["options"].items())]
        r = explore_for(binary, fx["scenario"], fx["variant"], fx["kind"], opts, fx["tasks"])
        fx["link"] = r["link"]
        fx["tasks"] = sorted(r["tasks"])
        fx["preemptions"] = r["preemptions"]
    else:
        sys.exit(f"{os.path.basename(path)}: refind failed: {out}{err}")
    with open(path, "w") as f:
        f.write(json.dumps(fx, indent=2) + "\n")
    RENEWED[old] = fx["link"]
    return True


def renew_copies(binary):
    for name in sorted(os.listdir(COPIES)):
        if not name.endswith(".txt"):
            continue
        path = os.path.join(COPIES, name)
        link = open(path).read().strip()
        if link in RENEWED:
            with open(path, "w") as f:
                f.write(RENEWED[link] + "\n")
            print(f"re-made {os.path.relpath(path, ROOT)} (a copy of a re-recorded fixture)")
        elif run(binary, ["replay", link, "--json"])[0] != 0:
            print(f"STALE {os.path.relpath(path, ROOT)}: it no longer replays; re-make it", file=sys.stderr)
    docs = [os.path.join(ROOT, "README.md")]
    for d in ["docs", os.path.join("docs", "scenarios")]:
        full = os.path.join(ROOT, d)
        docs += [os.path.join(full, f) for f in sorted(os.listdir(full)) if f.endswith(".md")]
    for path in docs:
        text = open(path).read()
        # a link ends where the URL-safe base64 ends (`)` or a blank follows)
        new = text
        for old, renewed in RENEWED.items():
            new = re.sub(re.escape("index.html" + old) + r"(?![A-Za-z0-9_-])", lambda _m: "index.html" + renewed, new)
        if new != text:
            with open(path, "w") as f:
                f.write(new)
            print(f"re-made the playground links in {os.path.relpath(path, ROOT)} that copied re-recorded fixtures")
        remake_doc_links(binary, path)


def link_fields(link):
    """The fields of a `#v3.` link (zlib-compressed JSON in URL-safe
    base64), or None for another form."""
    if not link.startswith("#v3."):
        return None
    body = link[len("#v3."):]
    try:
        return json.loads(zlib.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))))
    except (ValueError, zlib.error):
        return None


def remake_doc_links(binary, path):
    """Re-makes the links in a doc that no longer open because their
    built-in's text changed (not copies of a fixture, so not renewed above):
    the same variant, options and outcome kind (`w`), the outcome's schedule
    with the fewest preemptions ([`explore_for`]). Says whether the schedule
    is the one the old link had; a link that names no kind is only named."""
    text = open(path).read()
    rel = os.path.relpath(path, ROOT)
    made = {}
    for old in sorted(set(re.findall(r"index\.html(#v3\.[A-Za-z0-9_.-]{20,})", text))):
        if old in made:
            continue
        code, _, err = run(binary, ["replay", old, "--json"])
        if code == 0 or "has changed since the link was made" not in err:
            continue
        d = link_fields(old)
        if not d or "w" not in d or "id" not in d.get("b", {}):
            print(f"STALE {rel}: a link to a changed built-in that names no outcome: re-make it", file=sys.stderr)
            continue
        opts = [f"{k}={v}" for k, v in sorted(d.get("o", {}).items())]
        r = explore_for(binary, d["b"]["id"], d["v"], d["w"], opts)
        made[old] = r["link"]
        same = "the same schedule" if r["schedule"] == d.get("x") else "a NEW schedule: check the text around it"
        print(f"re-made a {d['b']['id']} {d['v']} {d['w']} link in {rel}: {r['preemptions']} preemptions, {same}")
    if made:
        for old, renewed in made.items():
            text = re.sub(re.escape("index.html" + old) + r"(?![A-Za-z0-9_-])", lambda _m: "index.html" + renewed, text)
        with open(path, "w") as f:
            f.write(text)


def explore_for(binary, scenario, variant, kind, opts, tasks=()):
    """The outcome of `kind` (naming `tasks` if one does) with the fewest
    preemptions: DFS under preemption bounds 0, 1 and 2 in turn, then under
    the scenario's own bound. (A search with no bound reports the fewest
    preemptions among the executions it ran, and it skips a prefix reached
    again whatever its preemptions, so it may miss the schedule with the
    fewest.)"""
    for bound in ["0", "1", "2", None]:
        args = ["explore", scenario, "--variant", variant, "--json", "--budget", "1000000"]
        if bound is not None:
            args += ["--strategy", "dfs", "--bound", bound]
        for o in opts:
            args += ["--option", o]
        code, out, err = run(binary, args)
        if code not in (0, 1):
            sys.exit(f"explore failed: {err}")
        d = json.loads(out)
        recs = [o for o in d["outcomes"] if o["kind"] == kind]
        named = [o for o in recs if all(t in o["tasks"] for t in tasks)]
        if named or (recs and bound is None):
            return min(named or recs, key=lambda o: (o["preemptions"], len(o["link"])))
    sys.exit(f"{scenario} {variant} {opts}: no {kind}")


def new(binary, scenario, variant, kind, opts):
    r = explore_for(binary, scenario, variant, kind, opts)
    ident = scenario
    optpart = "-".join(o.replace("=", "-") for o in opts) or "default"
    name = f"{ident}-{variant}-{optpart}-{kind}.json"
    fx = {
        "scenario": ident,
        "variant": variant,
        "options": dict(o.split("=", 1) for o in opts),
        "kind": kind,
        "tasks": sorted(r["tasks"]),
        "preemptions": r["preemptions"],
        "link": r["link"],
        "trace_hash": "0000000000000000",
    }
    with open(os.path.join(DIR, name), "w") as f:
        f.write(json.dumps(fx, indent=2) + "\n")
    print(name)


def main():
    argv = sys.argv[1:]
    binary = os.path.join(ROOT, "target", "tables", "ext4lab")
    if argv[:1] == ["--bin"]:
        binary, argv = argv[1], argv[2:]
    if argv[:1] == ["--new"]:
        new(binary, argv[1], argv[2], argv[3], argv[4:])
        return
    files = argv or sorted(os.path.join(DIR, f) for f in os.listdir(DIR) if f.endswith(".json"))
    for p in files:
        if rerecord(binary, p):
            print(f"re-recorded {os.path.basename(p)}")
    renew_copies(binary)


if __name__ == "__main__":
    main()
