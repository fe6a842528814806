"""The Dockerfile (SPEC 7): lint, the SPEC points, and a replay of what the image does.

There is no Docker engine in CI, so the last test reproduces the image outside Docker: it builds
the project wheel from the same (.dockerignore-filtered) build context, installs it into a fresh
venv laid out like the image (/opt/omnigate, /etc/omnigate/rules, /tmp), applies the runtime
stage's ENV, and starts ENTRYPOINT + CMD as an unprivileged user with read-only rules, then
probes the admin listener and runs the HEALTHCHECK command. The one shortcut: the wheel is
installed with --no-deps and the dependencies come from the test venv (a .pth file), instead of
being downloaded again as `pip install /src` does in the builder stage.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "Dockerfile"
HADOLINT = Path(sys.prefix) / "bin" / "hadolint"
UNPRIVILEGED = 65534  # nobody: owns nothing in the replayed image, like UID 10001 in the image
# Secret variables the SPEC's rule examples name; the replay gives them throwaway values.
SECRET_VARS = (
    "OMNIGATE_JWT_SECRET",
    "OMNIGATE_HASH_KEY",
    "OMNIGATE_ID_SECRET",
    "META_APP_SECRET",
    "TWILIO_AUTH_TOKEN",
    "MAILGUN_SIGNING_KEY",
    "TELEGRAM_SECRET_TOKEN",
    "D360_PARTNER_SECRET",
)


# ---- Dockerfile parsing ---------------------------------------------------------------------


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]

    def last(self, keyword: str) -> str:
        found = self.all(keyword)
        assert found, f"the runtime stage has no {keyword} instruction"
        return found[-1]

    def env(self) -> dict[str, str]:
        values: dict[str, str] = {}
        for args in self.all("ENV"):
            for token in shlex.split(args):
                key, _, value = token.partition("=")
                values[key] = value
        return values


def parse_dockerfile(text: str) -> list[Stage]:
    """Instructions per stage, continuation lines joined, comments and parser directives dropped."""
    logical: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue  # comment lines inside a continued instruction are ignored by Docker
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    stages: list[Stage] = []
    for line in logical:
        keyword, _, args = line.partition(" ")
        keyword, args = keyword.upper(), args.strip()
        if keyword == "FROM":
            words = args.split()
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            stages.append(Stage(base=words[0], name=name))
        else:
            assert stages, f"{keyword} before the first FROM"
            stages[-1].instructions.append((keyword, args))
    return stages


def healthcheck_argv(stage: Stage) -> list[str]:
    options_and_cmd = stage.last("HEALTHCHECK")
    argv = json.loads(options_and_cmd.split(" CMD ", 1)[1])
    assert isinstance(argv, list)
    return argv


@pytest.fixture(scope="module")
def stages() -> list[Stage]:
    return parse_dockerfile(DOCKERFILE.read_text())


@pytest.fixture(scope="module")
def runtime(stages: list[Stage]) -> Stage:
    return stages[-1]


# ---- .dockerignore: which files reach the build context -------------------------------------


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    # Docker's patternmatcher: `**` spans directories, `*` and `?` stay inside one segment.
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out + r"\Z")


def read_dockerignore(path: Path) -> list[tuple[bool, str, re.Pattern[str]]]:
    rules = []
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = os.path.normpath(line.lstrip("!").strip()).lstrip("/")
        rules.append((negate, pattern, _pattern_regex(pattern)))
    return rules


def is_excluded(rel: str, rules: list[tuple[bool, str, re.Pattern[str]]]) -> bool:
    parts = rel.split("/")
    # A pattern excludes a path when it matches the path or one of its parent directories.
    candidates = ["/".join(parts[:k]) for k in range(1, len(parts) + 1)]
    excluded = False
    for negate, _, regex in rules:
        if any(regex.match(c) for c in candidates):
            excluded = not negate
    return excluded


def _may_reinclude(folder: str, rules: list[tuple[bool, str, re.Pattern[str]]]) -> bool:
    """Whether a `!` pattern could match something inside `folder` (`!rules/*/*` reaches into
    `rules/examples`)."""
    depth = folder.count("/") + 1
    for negate, pattern, _ in rules:
        parts = pattern.split("/")
        if negate and (
            "**" in pattern
            or (len(parts) > depth and _pattern_regex("/".join(parts[:depth])).match(folder))
        ):
            return True
    return False


def build_context(root: Path) -> list[str]:
    """Relative paths of the files `docker build` would send from root."""
    rules = read_dockerignore(root / ".dockerignore")
    files: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = Path(dirpath).relative_to(root).as_posix()
        prefix = "" if rel_dir == "." else rel_dir + "/"
        # Skip excluded folders no `!` pattern can reach into (the venv, .git...): much faster.
        dirnames[:] = [
            d
            for d in dirnames
            if not is_excluded(prefix + d, rules) or _may_reinclude(prefix + d, rules)
        ]
        files.extend(prefix + name for name in filenames if not is_excluded(prefix + name, rules))
    return sorted(files)


# ---- static checks ----------------------------------------------------------------------------


def test_hadolint_passes_with_the_project_config() -> None:
    result = subprocess.run(
        [str(HADOLINT), "--config", str(REPO / ".hadolint.yaml"), "--no-color", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_config_is_in_force(tmp_path: Path) -> None:
    # Control: the same config must reject an unpinned base image, so the lint above is not a no-op.
    bad = tmp_path / "Dockerfile"
    bad.write_text(DOCKERFILE.read_text().replace("FROM python:3.11-slim", "FROM python:latest"))
    result = subprocess.run(
        [str(HADOLINT), "--config", str(REPO / ".hadolint.yaml"), "--no-color", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "DL3007" in result.stdout


def test_multi_stage_build_on_slim_python_311(stages: list[Stage], runtime: Stage) -> None:
    assert len(stages) >= 2
    # Same base everywhere: the venv's interpreter links point at the base image's python.
    assert {s.base for s in stages} == {"python:3.11-slim"}
    builder_names = {s.name for s in stages[:-1]}
    copies = [args for args in runtime.all("COPY") if args.startswith("--from=")]
    assert copies, "the runtime stage copies nothing from a build stage"
    for args in copies:
        source_stage = args.split()[0].removeprefix("--from=")
        assert source_stage in builder_names
    assert any(args.split()[1:] == ["/opt/omnigate", "/opt/omnigate"] for args in copies)


def test_runtime_user_is_numeric_and_not_root(runtime: Stage) -> None:
    user = runtime.last("USER")
    # Numeric so Kubernetes' runAsNonRoot can check it without reading /etc/passwd.
    assert re.fullmatch(r"\d+(:\d+)?", user), user
    uid, _, gid = user.partition(":")
    assert int(uid) != 0 and (not gid or int(gid) != 0)
    assert uid == "10001"  # the chart's runAsUser


def test_ports_entrypoint_and_cmd(runtime: Stage) -> None:
    assert sorted(" ".join(runtime.all("EXPOSE")).split()) == ["8080", "9901"]
    assert json.loads(runtime.last("ENTRYPOINT")) == ["omnigate"]
    assert json.loads(runtime.last("CMD")) == ["serve"]


def test_runtime_environment(runtime: Stage) -> None:
    env = runtime.env()
    assert env["OMNIGATE_RULES"] == "/etc/omnigate/rules"
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"  # read-only root filesystem
    assert env["TMPDIR"] == "/tmp"
    assert env["PATH"].startswith("/opt/omnigate/bin:")
    assert env.get("OMNIGATE_ADMIN_LISTEN", "0.0.0.0:9901").endswith(":9901")


def test_oci_labels_name_the_version_revision_and_source(runtime: Stage) -> None:
    labels = dict(
        token.partition("=")[::2] for args in runtime.all("LABEL") for token in shlex.split(args)
    )
    args = dict(a.partition("=")[::2] for a in runtime.all("ARG"))
    prefix = "org.opencontainers.image."
    # each filled from a build argument (make image passes git's), never a stale literal
    for label, arg in (("version", "VERSION"), ("revision", "REVISION"), ("source", "SOURCE")):
        assert labels[prefix + label] == "${" + arg + "}"
        assert arg in args
    assert labels[prefix + "licenses"] == "Apache-2.0"
    namespace: dict[str, str] = {}
    exec((REPO / "gateway" / "__init__.py").read_text(), namespace)
    assert args["VERSION"] == namespace["__version__"]  # the default follows the package


def test_builder_installs_from_the_constraints_file(stages: list[Stage]) -> None:
    installs = [a for s in stages[:-1] for a in s.all("RUN") if "pip install" in a]
    # with the otel extra: setting OTEL_EXPORTER_OTLP_ENDPOINT turns tracing on in the image
    assert any('--constraint /src/constraints.txt "/src[otel]"' in a for a in installs), installs


def test_healthcheck_probes_the_admin_listener_with_python(runtime: Stage) -> None:
    exec_form = healthcheck_argv(runtime)
    assert exec_form[0] == "python"  # the slim image has no curl
    assert "/healthz" in exec_form[-1]
    assert "OMNIGATE_ADMIN_LISTEN" in exec_form[-1]


def test_build_context_is_an_allow_list() -> None:
    files = build_context(REPO)
    assert "pyproject.toml" in files
    assert "gateway/__init__.py" in files
    # the packaging inputs, and the rule packs the wheel ships as package data
    for needed in ("setup.py", "constraints.txt", "LICENSE", "rules/examples/00-auth.yaml"):
        assert needed in files
    leaked = [
        f
        for f in files
        if f.split("/")[0] in {".venv", ".git", "tests", "helm", "docs", "bench"}
        or (f.startswith("rules/") and f.count("/") < 2)  # the checkout's own rules stay out
        or "__pycache__" in f
        or Path(f).name.startswith(".env")
    ]
    assert leaked == []


@pytest.mark.parametrize(
    ("ignore", "path", "excluded"),
    [
        ("*", "Makefile", True),
        ("*", "gateway/cli.py", True),  # a parent directory match excludes the file
        ("*\n!gateway/", "gateway/cli.py", False),  # re-included after `*`
        ("*\n!gateway/\n**/__pycache__", "gateway/masks/__pycache__/x.pyc", True),
        ("**/*.pyc", "a.pyc", True),  # `**/` also matches zero folders
        ("*.md", "docs/deploy.md", False),  # `*` does not cross `/`
        ("/docs", "docs/deploy.md", True),  # a leading slash means the context root
        ("# *", "Makefile", False),  # comments are not patterns
    ],
)
def test_dockerignore_matcher(ignore: str, path: str, excluded: bool, tmp_path: Path) -> None:
    # The replay below trusts this matcher to pick the build context: pin its semantics.
    (tmp_path / ".dockerignore").write_text(ignore + "\n")
    assert is_excluded(path, read_dockerignore(tmp_path / ".dockerignore")) is excluded


# ---- the image, replayed ----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, f"{shlex.join(cmd)} failed:\n{result.stdout}\n{result.stderr}"
    return result


def _user_prefix() -> list[str]:
    """argv prefix that runs a command as an unprivileged user (nothing when we are not root)."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv"):
        return [
            "setpriv",
            f"--reuid={UNPRIVILEGED}",
            f"--regid={UNPRIVILEGED}",
            "--clear-groups",
            "--inh-caps=-all",
        ]
    if shutil.which("runuser"):
        return ["runuser", "-u", "nobody", "--"]
    pytest.skip("running as root and neither setpriv nor runuser can drop to a non-root user")


def _http_get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


class _Upstream(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:
        type(self).hits.append(self.path)
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def upstream() -> Iterator[tuple[str, list[str]]]:
    hits: list[str] = []
    handler = type("Upstream", (_Upstream,), {"hits": hits})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()
    server.server_close()


@pytest.fixture
def image_root() -> Iterator[Path]:
    # Not tmp_path: pytest's base temp dir is 0700, which the unprivileged user cannot enter.
    root = Path(tempfile.mkdtemp(prefix="omnigate-image-"))
    root.chmod(0o755)
    yield root
    shutil.rmtree(root, ignore_errors=True)


def _snapshot(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*")}


def _install_image(root: Path) -> Path:
    """Builds the wheel from the build context and installs it like the builder stage does."""
    context = root / "build-context"
    for rel in build_context(REPO):
        (context / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, context / rel)
    wheels = root / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(context)])
    (wheel,) = wheels.glob("omnigate_sidecar-*.whl")

    venv = root / "opt" / "omnigate"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    venv_python = venv / "bin" / "python"
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(venv_python),
            "install",
            "-q",
            "--no-deps",
            "--no-index",
            str(wheel),
        ]
    )
    # Dependencies: the test venv's site-packages, appended after the image venv's own (so the
    # freshly installed wheel, not the editable checkout, provides `gateway`).
    purelib = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    site = Path(_run([str(venv_python), "-c", purelib]).stdout.strip())
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "zz-test-dependencies.pth").write_text("\n".join(sorted(deps)) + "\n")
    shutil.rmtree(context)
    shutil.rmtree(wheels)
    return venv


def _install_rules(root: Path) -> Path:
    source = REPO / "rules" / "examples"
    rule_files = [p for p in sorted(source.glob("*")) if p.suffix in {".yaml", ".yml", ".json"}]
    assert rule_files, f"{source} holds no rule files to start the gateway with"
    target = root / "etc" / "omnigate" / "rules"
    shutil.copytree(source, target)
    # Read-only, like a ConfigMap volume.
    for path in sorted(target.rglob("*"), reverse=True):
        path.chmod(0o555 if path.is_dir() else 0o444)
    target.chmod(0o555)
    return target


def _image_env(runtime: Stage, root: Path) -> dict[str, str]:
    """The runtime stage's ENV with image paths mapped into root."""
    system_path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    env: dict[str, str] = {"PATH": system_path, "HOME": "/nonexistent", "LANG": "C.UTF-8"}
    for key, value in runtime.env().items():
        value = value.replace("$PATH", system_path)
        # One pass, so a mapped path (itself under /tmp) is not mapped twice.
        value = re.sub(r"(^|:)(?=/opt/omnigate|/etc/omnigate|/tmp)", rf"\g<1>{root}", value)
        env[key] = value
    return env


@pytest.fixture
def traversable_dependencies() -> Iterator[None]:
    """Let the unprivileged user reach the test venv's packages for this test.

    A fresh clone may sit in a 0700 temporary folder (mktemp -d), which uid 65534 cannot
    traverse; the image's dependencies come from that venv (see _install_image). Grant only
    traverse (o+x) on the folders missing it, and restore their modes afterwards.
    """
    changed: list[tuple[Path, int]] = []
    for lib in {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}:
        for folder in [*reversed(Path(lib).parents), Path(lib)]:
            mode = stat.S_IMODE(folder.stat().st_mode)
            if not mode & stat.S_IXOTH and all(folder != done for done, _ in changed):
                folder.chmod(mode | stat.S_IXOTH)
                changed.append((folder, mode))
    try:
        yield
    finally:
        for folder, mode in reversed(changed):
            folder.chmod(mode)


def test_image_installs_and_serves_as_non_root_with_read_only_rules(
    runtime: Stage,
    image_root: Path,
    upstream: tuple[str, list[str]],
    traversable_dependencies: None,
) -> None:
    user = _user_prefix()
    venv = _install_image(image_root)
    rules = _install_rules(image_root)
    tmp = image_root / "tmp"
    tmp.mkdir()
    tmp.chmod(0o1777)  # like the emptyDir / tmpfs at /tmp

    # The interpreter must be reachable by the unprivileged user (it is not under a 0700 home).
    probe = subprocess.run(
        [*user, str(venv / "bin" / "python"), "-c", "import gateway; print(gateway.__file__)"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
        cwd="/",  # as in the image: `python -c` puts the working directory on sys.path
    )
    if probe.returncode != 0 and user and "ermission denied" in probe.stderr:
        pytest.skip(f"the venv's Python is not executable by uid {UNPRIVILEGED}: {probe.stderr}")
    assert probe.returncode == 0, probe.stderr
    assert Path(probe.stdout.strip()).is_relative_to(venv), "gateway must come from the wheel"

    upstream_url, hits = upstream
    port, admin_port = _free_port(), _free_port()
    env = _image_env(runtime, image_root)
    assert env["OMNIGATE_RULES"] == str(rules)
    env.update(
        OMNIGATE_UPSTREAM=upstream_url,
        OMNIGATE_LISTEN=f"127.0.0.1:{port}",
        OMNIGATE_ADMIN_LISTEN=f"127.0.0.1:{admin_port}",
        **{name: f"deploy-test-{name.lower()}-0123456789abcdef" for name in SECRET_VARS},
    )
    entrypoint = json.loads(runtime.last("ENTRYPOINT"))
    cmd = json.loads(runtime.last("CMD"))
    argv = [str(venv / "bin" / entrypoint[0]), *entrypoint[1:], *cmd]
    before = _snapshot(image_root / "opt") | _snapshot(image_root / "etc")
    proc = subprocess.Popen(
        [*user, *argv],
        cwd="/",
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    output: list[bytes] = []
    reader = threading.Thread(target=lambda: output.extend(proc.stdout or []), daemon=True)
    reader.start()

    def log() -> str:
        return b"".join(output).decode(errors="replace")[-4000:]

    try:
        admin = f"http://127.0.0.1:{admin_port}"
        deadline = time.monotonic() + 30
        status = 0
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                status, _ = _http_get(admin + "/healthz")
                if status == 200:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        assert proc.poll() is None, f"omnigate serve exited with {proc.returncode}:\n{log()}"
        assert status == 200, f"/healthz never answered 200:\n{log()}"

        while time.monotonic() < deadline:  # readiness follows rule loading
            status, _ = _http_get(admin + "/readyz")
            if status == 200:
                break
            time.sleep(0.1)
        assert status == 200, f"/readyz stayed {status}:\n{log()}"

        status, body = _http_get(admin + "/metrics")
        assert status == 200 and b"# TYPE" in body
        status, body = _http_get(admin + "/rules")
        assert status == 200 and isinstance(json.loads(body), dict)

        # The image's HEALTHCHECK command, as Docker would run it inside the container.
        health_argv = healthcheck_argv(runtime)
        health = subprocess.run(
            [*user, str(venv / "bin" / health_argv[0]), *health_argv[1:]],
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert health.returncode == 0, health.stderr

        # The client listener proxies: unrouted paths pass through (or, when the example rules
        # reject anonymous callers, the gateway answers 401 itself without calling upstream).
        status, body = _http_get(f"http://127.0.0.1:{port}/omnigate-deploy-check")
        if status == 401:
            assert json.loads(body)["error"]["code"] == "missing_token"
            assert hits == []
        else:
            assert (status, json.loads(body)) == (200, {"ok": True})
            assert hits == ["/omnigate-deploy-check"]

        # Nothing was written outside $TMPDIR (no bytecode, no state files).
        assert _snapshot(image_root / "opt") | _snapshot(image_root / "etc") == before
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            # The chart gives the pod 30 s: 5 s pre-stop pause + the gateway's 15 s drain + slack.
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            pytest.fail(f"omnigate serve did not exit within 20 s of SIGTERM:\n{log()}")
