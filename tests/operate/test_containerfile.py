"""The Containerfile (it cannot be built here: no base-image registry) installs the same package
and runs the same entry point as `make serve`: read both and compare. The checker is shown to
fail on broken variants, so a passing run means something."""

from __future__ import annotations

import re
import shlex
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, op: str) -> list[str]:
        return [arg for o, arg in self.instructions if o == op]


def parse_containerfile(text: str) -> list[Stage]:
    """Instructions by stage: comments dropped, continuation lines joined."""
    logical: list[str] = []
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        logical.append(current + line)
        current = ""
    stages: list[Stage] = []
    for line in logical:
        op, _, arg = line.partition(" ")
        op, arg = op.upper(), arg.strip()
        if op == "FROM":
            m = re.fullmatch(r"(\S+)(?:\s+AS\s+(\S+))?", arg, re.I)
            assert m, line
            stages.append(Stage(m.group(1), m.group(2)))
        else:
            assert stages, f"{op} before FROM"
            stages[-1].instructions.append((op, arg))
    return stages


def exec_form(arg: str) -> list[str]:
    import json

    value = json.loads(arg)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value), arg
    return value


def make_recipe(makefile: str, target: str) -> list[str]:
    """The recipe lines of ``target`` (tab-indented lines after ``target:``)."""
    lines = makefile.splitlines()
    for i, line in enumerate(lines):
        if re.match(rf"^{re.escape(target)}\s*:", line):
            out = []
            for body in lines[i + 1:]:
                if not body.startswith("\t"):
                    break
                out.append(body[1:])
            return out
    return []


def _extras(spec: str, name: str) -> set[str] | None:
    """The extras of ``name`` (or of the local project '.') in a pip requirement, else None."""
    m = re.fullmatch(rf"['\"]?(?:{re.escape(name)}|\.)(?:\[([\w,\s-]*)\])?['\"]?", spec)
    if m is None:
        return None
    return {e.strip() for e in (m.group(1) or "").split(",") if e.strip()}


def container_problems(containerfile: str, makefile: str, pyproject: str) -> list[str]:
    """Everything in which the image differs from `make serve` or from a safe service image."""
    problems: list[str] = []
    project = tomllib.loads(pyproject)["project"]
    name = project["name"]
    stages = parse_containerfile(containerfile)
    if not stages:
        return ["no FROM"]
    final = stages[-1]

    # The base image runs a Python the package accepts.
    m = re.search(r"python:(\d+)\.(\d+)", final.base)
    floor = tuple(int(x) for x in re.findall(r"\d+", project["requires-python"])[:2])
    if m is None or (int(m.group(1)), int(m.group(2))) < floor:
        problems.append(f"base image {final.base} is not a Python >= {floor}")

    # The package: built from this source tree (pyproject.toml and src copied in) and installed
    # with the extras `make` installs, minus the test-only ones.
    copies = " ".join(a for s in stages for a in s.all("COPY"))
    if "pyproject.toml" not in copies or not re.search(r"(^|\s)src(\s|$)", copies):
        problems.append("the image does not copy pyproject.toml and src/ (the package's source)")
    stamp = "\n".join(make_recipe(makefile, "$(STAMP)"))
    make_extras: set[str] = set()
    for spec in re.findall(r"pip install[^\n]*?-e\s+(\S+)", stamp):
        found = _extras(spec, name)
        if found is not None:
            make_extras |= found
    wanted = make_extras - {"test"}
    installs = [a for a in final.all("RUN") if "pip install" in a]
    got: set[str] | None = None
    for run in installs:
        for word in shlex.split(run.replace("&&", " ")):
            found = _extras(word, name)
            if found is not None:
                got = found
    if got is None:
        problems.append(f"the final stage does not pip install {name}")
    elif got != wanted:
        problems.append(f"the image installs {name} with extras {sorted(got)}, `make` with "
                        f"{sorted(make_extras)} (runtime: {sorted(wanted)})")
    declared = {re.split(r"[<>=~!\[;\s]", d, maxsplit=1)[0].lower()
                for d in project["dependencies"]}
    for module in ("starlette", "uvicorn", "httpx", "prometheus-client", "shamir-mnemonic"):
        if module not in declared:
            problems.append(f"{module} (the service needs it) is not in [project.dependencies]")
    if "setup.py" not in copies:  # it builds the C fast paths (reelrights.core._native)
        problems.append("the image does not copy setup.py (the C fast paths' build)")
    # The system libraries `make` installs for the package: headers (-dev) where the wheels are
    # built, the others in the image that runs.
    for lib in re.findall(r"apt-get install -y -q (\S+)", stamp):
        where = [a for s in stages for a in s.all("RUN")] if lib.endswith("-dev") else \
            final.all("RUN")
        if not any(lib in a for a in where):
            problems.append(f"{lib} (installed by make) is not installed in the image")

    # The entry point: `make serve` runs the project's console script `reelrights ... serve`.
    scripts = project.get("scripts", {})
    serve = [ln for ln in make_recipe(makefile, "serve") if " serve" in ln]
    if not serve:
        problems.append("`make serve` has no recipe line running `serve`")
        serve_words: list[str] = []
    else:
        serve_words = shlex.split(serve[-1])
    script = Path(serve_words[0]).name if serve_words else ""
    if script not in scripts:
        problems.append(f"`make serve` runs {script!r}, not a console script of the project")
    entry = exec_form(final.all("ENTRYPOINT")[-1]) if final.all("ENTRYPOINT") else []
    cmd = exec_form(final.all("CMD")[-1]) if final.all("CMD") else []
    argv = entry + cmd
    if not argv or argv[0] != script or "serve" not in argv[1:2]:
        problems.append(f"the image runs {argv}, not `{script} serve` as make serve does")
    port = argv[argv.index("--port") + 1] if "--port" in argv else "8080"
    if "--host" not in argv or argv[argv.index("--host") + 1] != "0.0.0.0":
        problems.append("the image's server does not listen on 0.0.0.0 (unreachable from the "
                        "proxy)")
    exposed = {p.split("/")[0] for a in final.all("EXPOSE") for p in a.split()}
    if port not in exposed:
        problems.append(f"the image serves port {port} but exposes {sorted(exposed)}")
    # Not root.
    users = final.all("USER")
    if not users or users[-1].split(":")[0] in ("root", "0"):
        problems.append("the image runs as root (no USER, or USER root)")
    else:
        order = [op for op, _ in final.instructions]
        if order.index("USER") > max(i for i, op in enumerate(order) if op in ("CMD",
                                                                                "ENTRYPOINT")):
            problems.append("USER comes after the command")
    # A health check on /healthz, on the served port.
    checks = final.all("HEALTHCHECK")
    if not checks or f":{port}/healthz" not in checks[-1]:
        problems.append(f"no HEALTHCHECK on http://127.0.0.1:{port}/healthz")
    return problems


def _files() -> tuple[str, str, str]:
    return ((ROOT / "Containerfile").read_text("utf-8"), (ROOT / "Makefile").read_text("utf-8"),
            (ROOT / "pyproject.toml").read_text("utf-8"))


def test_the_containerfile_runs_what_make_serve_runs() -> None:
    assert container_problems(*_files()) == []


@pytest.mark.parametrize("change, problem", [
    (lambda c: c.replace("USER reelrights\n", "USER root\n"), "runs as root"),
    (lambda c: c.replace("USER reelrights\n", ""), "runs as root"),
    (lambda c: re.sub(r"HEALTHCHECK[^\n]*\\\n[^\n]*\n", "", c), "no HEALTHCHECK"),
    (lambda c: c.replace("/healthz", "/readyz"), "no HEALTHCHECK"),
    (lambda c: c.replace("EXPOSE 8080", "EXPOSE 9090"), "exposes"),
    (lambda c: c.replace('"serve", ', '"demo", '), "not `reelrights serve`"),
    (lambda c: c.replace('"0.0.0.0"', '"127.0.0.1"'), "0.0.0.0"),
    (lambda c: c.replace("--find-links=/wheels reelrights", "--find-links=/wheels "
                         "'reelrights[ray]'"), "extras ['ray']"),
    (lambda c: c.replace("--find-links=/wheels reelrights", "--find-links=/wheels other"),
     "does not pip install"),
    (lambda c: c.replace("libchromaprint1", "libfoo"), "libchromaprint1"),
    (lambda c: c.replace("build-essential libssl-dev", "build-essential"), "libssl-dev"),
    (lambda c: c.replace("COPY pyproject.toml setup.py", "COPY pyproject.toml"), "setup.py"),
    (lambda c: c.replace("python:3.11-slim-bookworm", "python:3.10-slim"), "not a Python"),
    (lambda c: c.replace("COPY src ./src", "COPY lib ./lib"), "source"),
])
def test_the_checker_finds_each_departure(change, problem: str) -> None:  # noqa: ANN001
    containerfile, makefile, pyproject = _files()
    broken = change(containerfile)
    assert broken != containerfile
    found = container_problems(broken, makefile, pyproject)
    assert any(problem in p for p in found), found


def test_a_make_serve_that_runs_something_else_is_noticed() -> None:
    containerfile, makefile, pyproject = _files()
    other = makefile.replace("$(BIN)/reelrights serve --host", "$(BIN)/python -m http.server")
    assert other != makefile
    assert any("make serve" in p for p in container_problems(containerfile, other, pyproject))


def test_the_serve_command_takes_the_containers_options() -> None:
    """`reelrights serve --host --port` exists with the options the image passes."""
    from reelrights.cli import COMMANDS, cli

    if "serve" not in COMMANDS:
        pytest.skip("`reelrights serve` is not on this branch yet (svc-write's)")
    import click

    command = cli.get_command(click.Context(cli), "serve")
    assert command is not None
    names = {o for p in command.params for o in getattr(p, "opts", [])}
    assert {"--host", "--port"} <= names
