#!/usr/bin/env python3
"""The JSON Schemas in docs/schema/ against the shipped files and the loader.

    check_schemas.py SOURCE_DIR [TOLLGATE]

1. Each schema is a valid draft 2020-12 schema.
2. Every profiles/*.json validates against profile.schema.json (classes.json against
   classes.schema.json), every examples/tasks/*.json against task.schema.json.
3. Positive cases below (every key the loader accepts) validate; negative cases do not.
4. With TOLLGATE (the built binary): the loader agrees. Every shipped profile and every positive
   profile passes `tollgate check`; every negative profile fails it. Every example task and
   positive task is classified by `tollgate classify --task-file`; every negative task is
   refused, except the few cases listed as schema-stricter, where the schema is deliberately
   stricter than the reader (the reader must then accept them, so the list stays true).

Exit status 0 when everything holds; 1 with every failure listed otherwise.
"""
import json
import os
import pathlib
import subprocess
import sys
import tempfile

import jsonschema

SOURCE = pathlib.Path(sys.argv[1]).resolve()
TOLLGATE = str(pathlib.Path(sys.argv[2]).resolve()) if len(sys.argv) > 2 and sys.argv[2] else None
FAILURES = []


def fail(message):
    FAILURES.append(message)


def load_schema(name):
    schema = json.loads((SOURCE / "docs" / "schema" / name).read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


PROFILE = load_schema("profile.schema.json")
TASK = load_schema("task.schema.json")
CLASSES = load_schema("classes.schema.json")


def errors_of(validator, document):
    return [f"/{'/'.join(map(str, e.absolute_path))}: {e.message[:160]}"
            for e in validator.iter_errors(document)]


# ------------------------------------------------------------------ cases

# Profiles the loader accepts, between them using every key it knows.
POSITIVE_PROFILES = {
    "every-key": {
        "name": "every-key",
        "description": "Uses every key the loader accepts, once.",
        "extends": ["base"],
        "filesystem": {
            "read": ["/usr/share/doc", "{workspace}"],
            "write": ["{workspace}/build", "{cache}/npm"],
            "exec": ["{workspace}/build"],
            "hide": ["{workspace}/.env.test"],
            "protect": ["{workspace}/.git/hooks", "{home}/.profile"],
            "scratch": ["{workspace}/build"],
            "tmp": "1.5G",
            "home": "empty",
        },
        "network": {
            "mode": "proxy",
            "allow": ["registry.npmjs.org:443", "*.example.com:80,443", "10.0.0.0/8",
                      "[2001:db8::1]:443", "example.org:8000-8100"],
            "deny": ["bad.example.com"],
            "sockets": ["{home}/.ssh/agent.sock"],
            "limits": {"connections": 256, "idle_timeout": "5m", "header_timeout": 10,
                       "header_size": "32K", "connect_timeout": "10s"},
        },
        "syscalls": {"deny": ["@debug", "ptrace"], "allow": ["personality"], "log": ["@mount"],
                     "errno": "EACCES"},
        "limits": {"memory": "4GiB", "processes": 1024, "cpu": "1h30m", "wall": 7200,
                   "file_size": 1048576, "open_files": 4096},
        "env": {"keep": ["NODE_ENV", "npm_config_*", "ANTHROPIC_API_KEY"],
                "set": {"NPM_CONFIG_CACHE": "{cache}/npm", "PATH": "{workspace}/bin:/usr/bin"},
                "drop": ["*TOKEN*"]},
        "tools": {
            "git": {
                "paths": ["/usr/bin/git", "/usr/lib/git-core/git"],
                "alias_dirs": ["/usr/lib/git-core"],
                "default": "deny",
                "why": "only the listed git commands",
                "subcommand": {"flags": ["--no-pager"], "value_options": ["-C"],
                               "checked_values": {"-c": {
                                   "values": ["core.hookspath=/dev/null", "core.fsmonitor=",
                                              "hook.*.enabled=false", "hook.Pre-Commit.enabled",
                                              "format.pretty=medium"],
                                   "why": "only settings that switch something off"}},
                               "dashed_prefix": "git-"},
                "host_env": {"HOME": "{home}", "SSH_AUTH_SOCK": "$SSH_AUTH_SOCK"},
                "host_cwd": "{workspace}",
                "rules": [
                    {"id": "status", "verdict": "allow", "args": "status|log ...",
                     "why": "reads"},
                    {"id": "commit", "verdict": "allow", "args": ["commit", "-m", "..."],
                     "why": "local"},
                    {"id": "push-host", "verdict": "ask", "args": "push origin HEAD|main",
                     "run": "host", "why": "through the broker"},
                    {"id": "config-opt", "verdict": "deny", "options": ["--config-env*"],
                     "why": "configuration from the command line"},
                    {"id": "exec-env", "verdict": "deny",
                     "env": ["GIT_SSH_COMMAND", "GIT_EXEC_PATH!=/usr/lib*/git-core", "GIT_X=1"],
                     "why": "changes what git runs"},
                    {"id": "rm-outside", "verdict": "deny", "args": "rm ...",
                     "paths_outside": ["{workspace}"], "skip_operands": 0,
                     "why": "stays in the workspace"},
                    {"id": "in-sandbox", "verdict": "allow", "args": "add ...", "run": "sandbox",
                     "why": "local"},
                ],
            }
        },
        "evidence": {"test_results": ["build/test-results/**/*.xml", "*.tap"],
                     "artifacts": ["dist/*.tar.gz", "out/pkg-[0-9]*.zip"]},
        "examples": [
            {"call": "git status", "expect": "allow", "rule": "status"},
            {"argv": ["git", "commit", "-m", "a message"], "expect": "allow"},
            {"call": "git push origin HEAD", "expect": "ask", "rule": "push-host"},
            {"call": "git -c core.hooksPath=/dev/null status", "expect": "allow",
             "rule": "status"},
            {"call": "git -c core.pager=evil status", "expect": "deny", "rule": "grammar"},
            {"call": "git status", "env": {"GIT_SSH_COMMAND": "ssh"}, "expect": "deny",
             "cwd": "{workspace}/src"},
            {"connect": "registry.npmjs.org:443", "expect": "allow"},
            {"connect": "a.example.com:443", "resolves_to": ["93.184.216.34"], "expect": "allow"},
            {"connect": "bad.example.com:443", "expect": "deny", "rule": "bad.example.com"},
        ],
    },
    "minimal": {"name": "minimal", "description": "Only what is required."},
    "extends-string": {
        "name": "extends-string",
        "description": "extends as a string; numbers for sizes, durations and errno.",
        "extends": "workspace-write",
        "filesystem": {"tmp": 1073741824, "home": "none"},
        "syscalls": {"errno": 13},
        "limits": {"cpu": "1d", "wall": "90s", "memory": "512M"},
    },
}

# Profiles both the schema and the loader refuse: (why, document).
BASE = {"name": "bad", "description": "A negative case."}
NEGATIVE_PROFILES = [
    ("an unknown top-level key", {**BASE, "permissions": {}}),
    ("an unknown filesystem key", {**BASE, "filesystem": {"writable": ["{workspace}"]}}),
    ("an unknown key in a tool rule", {**BASE, "tools": {"x": {
        "paths": ["/usr/bin/x"], "default": "deny", "why": "no",
        "rules": [{"id": "a", "verdict": "deny", "why": "no", "argz": "x"}]}}}),
    ("an unknown evidence key", {**BASE, "evidence": {"logs": ["*.log"]}}),
    ("no description", {"name": "bad"}),
    ("a blank description", {**BASE, "description": "   "}),
    ("an upper-case name", {**BASE, "name": "Bad"}),
    ("a fractional duration", {**BASE, "limits": {"wall": "1.5h"}}),
    ("a duration with a space", {**BASE, "limits": {"cpu": "30 m"}}),
    ("a duration with units out of order", {**BASE, "limits": {"cpu": "30m1h"}}),
    ("a week", {**BASE, "limits": {"wall": "1w"}}),
    ("a zero duration", {**BASE, "limits": {"wall": "0s"}}),
    ("a size with an unknown unit", {**BASE, "limits": {"memory": "10X"}}),
    ("a fraction of a byte", {**BASE, "filesystem": {"tmp": "1.5"}}),
    ("a zero limit", {**BASE, "limits": {"processes": 0}}),
    ("a negative size", {**BASE, "limits": {"memory": -1}}),
    ("a relative path", {**BASE, "filesystem": {"write": ["build"]}}),
    ("a '..' component", {**BASE, "filesystem": {"read": ["{workspace}/../etc"]}}),
    ("a trailing slash", {**BASE, "filesystem": {"read": ["/usr/lib/"]}}),
    ("a placeholder inside a path", {**BASE, "filesystem": {"read": ["/x/{home}"]}}),
    ("an unknown placeholder", {**BASE, "filesystem": {"read": ["{foo}/x"]}}),
    ("a placeholder not followed by '/'", {**BASE, "filesystem": {"read": ["{workspace}bin"]}}),
    ("an unknown network mode", {**BASE, "network": {"mode": "open"}}),
    ("too many proxy connections", {**BASE, "network": {"limits": {"connections": 5000}}}),
    ("an unknown errno name", {**BASE, "syscalls": {"errno": "EWHATEVER"}}),
    ("an env name with a dash", {**BASE, "env": {"set": {"MY-VAR": "1"}}}),
    ("an unknown placeholder in an env value", {**BASE, "env": {"set": {"A": "{nope}/x"}}}),
    ("a tool without paths", {**BASE, "tools": {"x": {"default": "deny", "why": "no"}}}),
    ("a tool verdict that is not one", {**BASE, "tools": {"x": {
        "paths": ["/usr/bin/x"], "default": "maybe", "why": "no"}}}),
    ("a host rule with a glob", {**BASE, "tools": {"x": {
        "paths": ["/usr/bin/x"], "default": "deny", "why": "no",
        "rules": [{"id": "a", "verdict": "allow", "args": "push *", "run": "host",
                   "why": "x"}]}}}),
    ("a host rule with '...'", {**BASE, "tools": {"x": {
        "paths": ["/usr/bin/x"], "default": "deny", "why": "no",
        "rules": [{"id": "a", "verdict": "allow", "args": "push ...", "run": "host",
                   "why": "x"}]}}}),
    ("a deny rule that runs on the host", {**BASE, "tools": {"x": {
        "paths": ["/usr/bin/x"], "default": "deny", "why": "no",
        "rules": [{"id": "a", "verdict": "deny", "args": "push", "run": "host", "why": "x"}]}}}),
    ("a checked value with an upper-case variable name", {**BASE, "tools": {"x": {
        "paths": ["/usr/bin/x"], "default": "deny", "why": "no",
        "subcommand": {"checked_values": {"-c": {"values": ["core.hooksPath=/dev/null"],
                                                 "why": "off"}}}}}}),
    ("a checked value with an upper-case section", {**BASE, "tools": {"x": {
        "paths": ["/usr/bin/x"], "default": "deny", "why": "no",
        "subcommand": {"checked_values": {"-c": {"values": ["Core.x=1"], "why": "off"}}}}}}),
    ("a checked value without a key", {**BASE, "tools": {"x": {
        "paths": ["/usr/bin/x"], "default": "deny", "why": "no",
        "subcommand": {"checked_values": {"-c": {"values": ["=1"], "why": "off"}}}}}}),
    ("a checked option without why", {**BASE, "tools": {"x": {
        "paths": ["/usr/bin/x"], "default": "deny", "why": "no",
        "subcommand": {"checked_values": {"-c": {"values": ["a.b=1"]}}}}}}),
    ("a checked option with no values", {**BASE, "tools": {"x": {
        "paths": ["/usr/bin/x"], "default": "deny", "why": "no",
        "subcommand": {"checked_values": {"-c": {"values": [], "why": "off"}}}}}}),
    ("a checked option given a bare list", {**BASE, "tools": {"x": {
        "paths": ["/usr/bin/x"], "default": "deny", "why": "no",
        "subcommand": {"checked_values": {"-c": ["a.b=1"]}}}}}),
    ("a checked option that is no option", {**BASE, "tools": {"x": {
        "paths": ["/usr/bin/x"], "default": "deny", "why": "no",
        "subcommand": {"checked_values": {"c": {"values": ["a.b=1"], "why": "off"}}}}}}),
    ("a checked option that is a glob", {**BASE, "tools": {"x": {
        "paths": ["/usr/bin/x"], "default": "deny", "why": "no",
        "subcommand": {"checked_values": {"-c*": {"values": ["a.b=1"], "why": "off"}}}}}}),
    ("an unknown key in a checked option", {**BASE, "tools": {"x": {
        "paths": ["/usr/bin/x"], "default": "deny", "why": "no",
        "subcommand": {"checked_values": {"-c": {"values": ["a.b=1"], "why": "off",
                                                 "allow": ["x"]}}}}}}),
    ("skip_operands without paths_outside", {**BASE, "tools": {"x": {
        "paths": ["/usr/bin/x"], "default": "deny", "why": "no",
        "rules": [{"id": "a", "verdict": "deny", "skip_operands": 1, "why": "x"}]}}}),
    ("a justification with a newline", {**BASE, "tools": {"x": {
        "paths": ["/usr/bin/x"], "default": "deny", "why": "two\nlines"}}}),
    ("an example with call and argv", {**BASE, "examples": [
        {"call": "git status", "argv": ["git", "status"], "expect": "allow"}]}),
    ("a network example expecting ask", {**BASE, "examples": [
        {"connect": "example.com:443", "expect": "ask"}]}),
    ("an absolute evidence glob", {**BASE, "evidence": {"artifacts": ["/dist/*"]}}),
    ("an evidence glob climbing out", {**BASE, "evidence": {"test_results": ["../x/*.xml"]}}),
    ("an evidence glob with a placeholder", {**BASE, "evidence": {"artifacts": ["{workspace}/dist/*"]}}),
    ("'**' inside a segment", {**BASE, "evidence": {"artifacts": ["dist/**.tgz"]}}),
    ("an unclosed class", {**BASE, "evidence": {"artifacts": ["dist/pkg-[0-9.tgz"]}}),
]

POSITIVE_TASKS = [
    {"title": "Fix typo in README"},
    {"description": "Only a description: explain how the proxy decides"},
    {"title": "", "description": "An empty title with a description"},
    {"title": "Bump lodash", "description": "CVE-2021-23337", "kind": "dependency",
     "scope": ["package.json", "./package-lock.json", "src/"], "phase": "implement",
     "base": "4b7e073"},
]

# (why, document, whether the reader refuses it too)
NEGATIVE_TASKS = [
    ("neither title nor description", {"kind": "feature"}, True),
    ("an empty title and no description", {"title": ""}, True),
    ("an unknown key", {"title": "x", "priority": "high"}, True),
    ("a title that is not a string", {"title": 3}, True),
    ("a scope that is not an array", {"title": "x", "scope": "src"}, True),
    ("an absolute scope path", {"title": "x", "scope": ["/etc"]}, True),
    ("a scope path climbing out", {"title": "x", "scope": ["src/../../etc"]}, True),
    ("an empty scope path", {"title": "x", "scope": [""]}, True),
    # The schema is stricter here: the reader takes any phase string today.
    ("an unknown phase", {"title": "x", "phase": "deploy"}, False),
]

NEGATIVE_CLASSES = [
    ("an unknown top-level key", lambda c: c.update({"extra": 1})),
    ("a tier without wall", lambda c: next(iter(c["tiers"].values())).pop("wall")),
    ("a rule with neither phrases nor scope_under",
     lambda c: (c["rules"][0].pop("phrases", None), c["rules"][0].pop("scope_under", None))),
    ("an unknown evidence item", lambda c: c["classes"][0].update({"evidence": ["logs"]})),
    ("an upper-case phrase", lambda c: c["rules"][0].update({"phrases": ["Publish"]})),
    ("a class without a profile", lambda c: c["classes"][0].pop("profile")),
]

# ------------------------------------------------------------------ the loader


def run(args, cwd, env):
    return subprocess.run(args, cwd=cwd, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=120)


def main():
    profiles_dir = SOURCE / "profiles"
    shipped = sorted(p for p in profiles_dir.glob("*.json") if p.name != "classes.json")
    for path in shipped:
        for error in errors_of(PROFILE, json.loads(path.read_text())):
            fail(f"{path.name}: the schema refuses a shipped profile: {error}")
    classes_doc = json.loads((profiles_dir / "classes.json").read_text())
    for error in errors_of(CLASSES, classes_doc):
        fail(f"classes.json: the schema refuses it: {error}")
    task_files = sorted((SOURCE / "examples" / "tasks").glob("*.json"))
    if not task_files:
        fail("no example tasks in examples/tasks")
    for path in task_files:
        for error in errors_of(TASK, json.loads(path.read_text())):
            fail(f"examples/tasks/{path.name}: the schema refuses it: {error}")

    for name, document in POSITIVE_PROFILES.items():
        for error in errors_of(PROFILE, document):
            fail(f"positive profile {name}: the schema refuses it: {error}")
    for why, document in NEGATIVE_PROFILES:
        if PROFILE.is_valid(document):
            fail(f"negative profile ({why}): the schema accepts it")
    for task in POSITIVE_TASKS:
        for error in errors_of(TASK, task):
            fail(f"positive task {task}: the schema refuses it: {error}")
    for why, task, _ in NEGATIVE_TASKS:
        if TASK.is_valid(task):
            fail(f"negative task ({why}): the schema accepts it")
    for why, change in NEGATIVE_CLASSES:
        document = json.loads(json.dumps(classes_doc))
        change(document)
        if CLASSES.is_valid(document):
            fail(f"negative classes.json ({why}): the schema accepts it")

    if TOLLGATE:
        check_with_loader(shipped, task_files, classes_doc)

    if FAILURES:
        print(f"{len(FAILURES)} failure(s):")
        for message in FAILURES:
            print("  " + message)
        return 1
    print(f"ok: {len(shipped)} shipped profiles, classes.json, {len(task_files)} example tasks, "
          f"{len(POSITIVE_PROFILES)}+{len(NEGATIVE_PROFILES)} profile cases, "
          f"{len(POSITIVE_TASKS)}+{len(NEGATIVE_TASKS)} task cases, "
          f"{len(NEGATIVE_CLASSES)} classes cases" + (", loader agrees" if TOLLGATE else ""))
    return 0


def check_with_loader(shipped, task_files, classes_doc):
    with tempfile.TemporaryDirectory() as scratch:
        scratch = pathlib.Path(scratch)
        # No user profile directories: only the shipped ones (found next to the binary or in
        # the source tree) and the files given by path.
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(scratch),
               "XDG_CONFIG_HOME": str(scratch / "config"), "LANG": "C.UTF-8"}
        for path in shipped:
            result = run([TOLLGATE, "check", str(path)], scratch, env)
            if result.returncode != 0:
                fail(f"tollgate check {path.name} fails: {result.stderr.strip()[:400]}")
        cases = scratch / "cases"
        cases.mkdir()
        for name, document in POSITIVE_PROFILES.items():
            file = cases / f"{name}.json"
            file.write_text(json.dumps(document, indent=2))
            result = run([TOLLGATE, "check", str(file)], scratch, env)
            if result.returncode != 0:
                fail(f"positive profile {name}: the schema accepts it, tollgate check refuses "
                     f"it: {result.stderr.strip()[:400]}")
        for index, (why, document) in enumerate(NEGATIVE_PROFILES):
            file = cases / f"negative-{index}.json"
            file.write_text(json.dumps(document, indent=2))
            result = run([TOLLGATE, "check", str(file)], scratch, env)
            if result.returncode == 0:
                fail(f"negative profile ({why}): the schema refuses it, tollgate check "
                     f"accepts it")
        # Tasks are classified with the shipped classes.json, found on the search path.
        tasks = [(f"examples/tasks/{p.name}", p, True) for p in task_files]
        for index, task in enumerate(POSITIVE_TASKS):
            file = cases / f"task-{index}.json"
            file.write_text(json.dumps(task))
            tasks.append((f"positive task {task}", file, True))
        for index, (why, task, refused) in enumerate(NEGATIVE_TASKS):
            file = cases / f"negative-task-{index}.json"
            file.write_text(json.dumps(task))
            tasks.append((f"negative task ({why})", file, not refused))
        for label, file, accepted in tasks:
            result = run([TOLLGATE, "classify", "--task-file", str(file)], scratch, env)
            if accepted and result.returncode != 0:
                fail(f"{label}: tollgate classify refuses it: {result.stderr.strip()[:400]}")
            if not accepted and result.returncode == 0:
                fail(f"{label}: tollgate classify accepts it")
        for index, (why, change) in enumerate(NEGATIVE_CLASSES):
            document = json.loads(json.dumps(classes_doc))
            change(document)
            file = cases / f"negative-classes-{index}.json"
            file.write_text(json.dumps(document))
            result = run([TOLLGATE, "classify", "--classes", str(file), "Fix a typo"], scratch,
                         env)
            if result.returncode == 0:
                fail(f"negative classes.json ({why}): tollgate classify accepts it")


if __name__ == "__main__":
    sys.exit(main())
