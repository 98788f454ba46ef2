#!/usr/bin/env python3
"""Local network servers for tollgate's proxy-mode end-to-end tests.

In network mode "proxy" a sandbox has no network except the supervisor's HTTP/SOCKS5 proxy. The
tests need real servers for the tools in the sandbox to reach through that proxy; this script
starts them on the host's loopback, standard library only, so the tests need nothing from the
internet. The build copies it next to the test binaries (bin/netservers.py).

    python3 netservers.py [--bind 127.0.0.1] [--tls-dir DIR] [--verbose]

It starts five threaded HTTP/1.1 servers, each on its own ephemeral port, and prints exactly one
JSON line on stdout once all of them listen, e.g.

    {"http": 40123, "tls": 40124, "npm": 40125, "pypi": 40126, "git": 40127,
     "ca_file": "/tmp/tollgate-netservers-x/tls/ca.pem", "git_head": "<commit sha>",
     "npm_package": "tollgate-fixture", "pypi_package": "tollgate-fixture",
     "fixture_text": "tollgate-fixture 1.0.0"}

Nothing else is written on stdout; request logs go to stderr with --verbose, fatal errors always.
It runs until its stdin reaches EOF or it gets SIGTERM (or SIGINT, SIGHUP), then removes its
temporary directory. A test starts it with stdin a pipe, reads the line, and closes the pipe when
done: the servers go away even if the test process dies (and stdin /dev/null stops it at once).
Startup takes about 0.2 s (certificates, repository, packages); the exit about 0.1 s.

Every service has its own port (rather than one server with /npm/, /pypi/, /git/ prefixes) so each
client takes a plain base URL and the Host header alone tells a service which name it was reached
by:

  http  GET /echo (any method): JSON of the request as received: method, path (the raw
        request-target), http_version, host (the Host header), headers (list of [name, value]
        pairs, in order), peer_address, peer_port, tls, sni (TLS only), body_length and
        body_sha256 (of the body, empty for a GET; Content-Length and chunked bodies are read).
        GET /bytes/N: N bytes, byte i being i % 256, streamed (N may be several GiB).
        Anything else: 404.
  tls   The same, behind TLS. A CA and a server certificate for tls.test, localhost and
        127.0.0.1 are made with the openssl command-line tool into --tls-dir (kept) or the
        temporary directory; clients trust "ca_file" (curl --cacert).
  npm   A registry of one package, tollgate-fixture 1.0.0 (index.js exports fixture_text):
        GET /tollgate-fixture is the packument, whose dist.tarball URL uses the request's Host
        header, so a client that reached it as registry.test:PORT downloads from the same name;
        the tarball is /tollgate-fixture/-/tollgate-fixture-1.0.0.tgz.
        npm install --registry http://HOST:PORT/ tollgate-fixture
  pypi  A PEP 503 simple index, /simple/ and /simple/tollgate-fixture/, linking (relative URL,
        #sha256= fragment) the wheel /packages/tollgate_fixture-1.0.0-py3-none-any.whl, whose
        module tollgate_fixture has TEXT = fixture_text.
        pip download --index-url http://HOST:PORT/simple/ tollgate-fixture
  git   A bare repository (one commit of README on branch main, "git_head"), served as static
        files under /repo.git/ (git's dumb HTTP protocol).
        git clone http://HOST:PORT/repo.git

The packages, the tarball, the wheel and the commit are the same bytes at every run.
"""

import argparse
import base64
import dataclasses
import gzip
import hashlib
import http.server
import io
import json
import os
import re
import shutil
import signal
import socket
import socketserver
import ssl
import subprocess
import sys
import tarfile
import tempfile
import threading
import typing
import urllib.parse
import zipfile

PACKAGE = "tollgate-fixture"
VERSION = "1.0.0"
FIXTURE_TEXT = f"{PACKAGE} {VERSION}"
TLS_NAMES = ("tls.test", "localhost")
TLS_IPS = ("127.0.0.1",)

# One MiB whose bytes are 0..255 repeated: /bytes/N streams slices of it without copying, and a
# chunk length that is a multiple of 256 keeps byte i equal to i % 256 across chunks.
PATTERN = bytes(range(256)) * 4096
READ_SIZE = 1 << 20
# How often an accept loop looks for shutdown: a test waiting for the exit waits at most this.
POLL_INTERVAL = 0.1

# Fixed dates make the tarball, the wheel and the commit identical at every run.
FIXED_EPOCH = 1704067200  # 2024-01-01T00:00:00Z
FIXED_ISO = "2024-01-01T00:00:00.000Z"


# --- HTTP plumbing shared by every service ---------------------------------------------------


@dataclasses.dataclass
class Reply:
    """What a service answers: a whole body, or `length` bytes streamed from `chunks`."""

    status: int
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: list = dataclasses.field(default_factory=list)
    length: typing.Optional[int] = None
    chunks: typing.Optional[typing.Iterable] = None


def json_reply(value):
    return Reply(200, (json.dumps(value) + "\n").encode(), "application/json")


def not_found():
    return Reply(404, b"not found\n")


def route_path(target):
    """The path a request is routed by: without query, also for an absolute-form target."""
    return urllib.parse.urlsplit(target).path or "/"


class Handler(http.server.BaseHTTPRequestHandler):
    """Reads any request body, asks the server's service for a Reply, and sends it."""

    protocol_version = "HTTP/1.1"  # keep-alive, as proxies and package managers expect
    server_version = "tollgate-netservers"

    def version_string(self):
        return self.server_version  # without the Python version BaseHTTPRequestHandler adds

    def do_GET(self):
        try:
            self.body_length, self.body_sha256 = self._read_body()
        except ValueError:
            self.close_connection = True  # the body's end is unknown: the stream is lost
            self._send(Reply(400, b"bad request body\n"))
            return
        self._send(self.server.service(self, route_path(self.path)) or not_found())

    do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_GET

    def _read_body(self):
        digest = hashlib.sha256()
        total = 0
        for piece in self._body_pieces():
            digest.update(piece)
            total += len(piece)
        return total, digest.hexdigest()

    def _body_pieces(self):
        coding = self.headers.get("Transfer-Encoding", "").strip().lower()
        if coding == "chunked":
            yield from read_chunked(self.rfile)
        elif coding:
            raise ValueError(f"unsupported transfer coding {coding}")
        else:
            yield from read_exactly(self.rfile, int(self.headers.get("Content-Length") or 0))

    def _send(self, reply):
        length = len(reply.body) if reply.chunks is None else reply.length
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(length))
        for name, value in reply.headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command == "HEAD":
            return
        try:
            for chunk in [reply.body] if reply.chunks is None else reply.chunks:
                self.wfile.write(chunk)
        except OSError:
            self.close_connection = True  # the client went away mid-body; nothing to report

    def log_message(self, format, *args):
        if self.server.verbose:
            sys.stderr.write(f"{self.server.name}: {self.address_string()} {format % args}\n")


def read_exactly(stream, length):
    if length < 0:
        raise ValueError("negative Content-Length")
    while length:
        piece = stream.read(min(length, READ_SIZE))
        if not piece:
            raise ValueError("body shorter than Content-Length")
        length -= len(piece)
        yield piece


def read_chunked(stream):
    while True:
        line = stream.readline(1024)
        size = int(line.split(b";")[0].strip(), 16)  # ValueError on garbage, as wanted
        if size == 0:
            break
        yield from read_exactly(stream, size)
        if stream.readline(1024).strip():
            raise ValueError("chunk not followed by CRLF")
    while stream.readline(8192).strip():  # trailer fields, up to the blank line
        pass


class Server(http.server.ThreadingHTTPServer):
    """One service on an ephemeral port of `bind`; TLS when given a context."""

    daemon_threads = True  # an open keep-alive connection must not hold up exit

    def __init__(self, name, bind, service, verbose, tls_context=None):
        self.name = name
        self.service = service
        self.verbose = verbose
        self.tls_context = tls_context
        self.address_family = socket.AF_INET6 if ":" in bind else socket.AF_INET
        super().__init__((bind, 0), Handler)

    def server_bind(self):
        # HTTPServer.server_bind would resolve the address (getfqdn), which can stall without DNS.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def get_request(self):
        sock, address = super().get_request()
        if self.tls_context:
            # The handshake is left to the connection's own thread (finish_request), so a slow or
            # plain-text client cannot hold up the accept loop.
            sock = self.tls_context.wrap_socket(
                sock, server_side=True, do_handshake_on_connect=False)
        return sock, address

    def finish_request(self, request, client_address):
        if self.tls_context:
            try:
                request.do_handshake()
            except OSError:
                return
        super().finish_request(request, client_address)

    def handle_error(self, request, client_address):
        if self.verbose:
            super().handle_error(request, client_address)


# --- http and tls: the origin --------------------------------------------------------------


def origin_service(handler, path):
    if path == "/echo":
        return json_reply(echo_of(handler))
    if path.startswith("/bytes/") and handler.command in ("GET", "HEAD"):
        return bytes_reply(path[len("/bytes/"):])
    return None


def echo_of(handler):
    echo = {
        "method": handler.command,
        "path": handler.path,
        "http_version": handler.request_version,
        "host": handler.headers.get("Host"),
        "headers": [[name, value] for name, value in handler.headers.items()],
        "peer_address": handler.client_address[0],
        "peer_port": handler.client_address[1],
        "tls": handler.server.tls_context is not None,
        "body_length": handler.body_length,
        "body_sha256": handler.body_sha256,
    }
    if echo["tls"]:
        echo["sni"] = getattr(handler.request, "sni", None)
    return echo


def bytes_reply(count):
    if not re.fullmatch(r"[0-9]+", count):  # str.isdigit() would take "²", which int() refuses
        return None
    length = int(count)
    return Reply(200, content_type="application/octet-stream", length=length,
                 chunks=pattern_chunks(length))


def pattern_chunks(length):
    view = memoryview(PATTERN)
    while length >= len(view):
        yield view
        length -= len(view)
    if length:
        yield view[:length]


# --- tls: certificates -----------------------------------------------------------------------


OPENSSL_CONFIG = """\
# Our own configuration, so the system's openssl.cnf adds no extension of its own.
[req]
distinguished_name = dn
prompt = no
[dn]
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = {alt_names}
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""


def run(command, stdin=None, env=None):
    """Runs a tool quietly (our stdout carries only the JSON line); its stdout, stripped."""
    try:
        done = subprocess.run(command, input=stdin, env=env, capture_output=True, text=True)
    except FileNotFoundError:
        raise RuntimeError(f"{command[0]} not found: install the {command[0]} package") from None
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {done.stderr.strip()}")
    return done.stdout.strip()


def make_certificates(directory):
    """A CA and a server certificate signed by it; returns (ca, cert, key) paths."""
    if not os.path.isdir(directory):
        os.makedirs(directory)
        os.chmod(directory, 0o755)  # whatever the umask: ca.pem must be readable by the sandbox

    def path(name):
        return os.path.join(directory, name)

    alt_names = ",".join([f"DNS:{n}" for n in TLS_NAMES] + [f"IP:{ip}" for ip in TLS_IPS])
    with open(path("openssl.cnf"), "w") as config:
        config.write(OPENSSL_CONFIG.format(alt_names=alt_names))
    # P-256 keys: generated in milliseconds, where RSA would slow every test run's start.
    new_key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run(["openssl", "req", "-x509", "-config", path("openssl.cnf"), "-extensions", "ca",
         *new_key, "-keyout", path("ca.key"), "-out", path("ca.pem"), "-days", "30",
         "-subj", "/CN=tollgate test CA"])
    run(["openssl", "req", "-new", "-config", path("openssl.cnf"), *new_key,
         "-keyout", path("server.key"), "-out", path("server.csr"), "-subj", f"/CN={TLS_NAMES[0]}"])
    run(["openssl", "x509", "-req", "-in", path("server.csr"), "-CA", path("ca.pem"),
         "-CAkey", path("ca.key"), "-set_serial", str(int.from_bytes(os.urandom(8), "big")),
         "-days", "30", "-extfile", path("openssl.cnf"), "-extensions", "server",
         "-out", path("server.pem")])
    # The CA certificate is public (a sandbox running as another user reads it); keys are not.
    os.chmod(path("ca.key"), 0o600)
    os.chmod(path("server.key"), 0o600)
    os.chmod(path("ca.pem"), 0o644)
    return path("ca.pem"), path("server.pem"), path("server.key")


def tls_context(cert, key):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.set_alpn_protocols(["http/1.1"])  # no h2: these servers speak HTTP/1.1 only
    context.sni_callback = remember_sni
    return context


def remember_sni(sock, server_name, context):
    sock.sni = server_name  # shown by /echo: the name a client asked for through a tunnel


# --- npm: a registry of one package ----------------------------------------------------------


class NpmRegistry:
    """tollgate-fixture 1.0.0 at /tollgate-fixture, its tarball built in memory."""

    TARBALL_PATH = f"/{PACKAGE}/-/{PACKAGE}-{VERSION}.tgz"

    def __init__(self):
        self.manifest = {"name": PACKAGE, "version": VERSION, "main": "index.js",
                         "description": "tollgate test fixture", "license": "MIT"}
        self.tarball = npm_tarball({
            "package/package.json": json.dumps(self.manifest, indent=2).encode() + b"\n",
            "package/index.js": f"module.exports = {json.dumps(FIXTURE_TEXT)};\n".encode(),
        })

    def __call__(self, handler, path):
        if path == f"/{PACKAGE}":
            return json_reply(self.packument(handler.headers.get("Host")
                                             or host_port(*handler.server.server_address[:2])))
        if path == self.TARBALL_PATH:
            return Reply(200, self.tarball, "application/octet-stream")
        return None

    def packument(self, host):
        sha512 = base64.b64encode(hashlib.sha512(self.tarball).digest()).decode()
        dist = {
            "tarball": f"http://{host}{self.TARBALL_PATH}",
            "shasum": hashlib.sha1(self.tarball).hexdigest(),
            "integrity": f"sha512-{sha512}",
        }
        return {
            "_id": PACKAGE,
            "name": PACKAGE,
            "dist-tags": {"latest": VERSION},
            "versions": {VERSION: {**self.manifest, "_id": f"{PACKAGE}@{VERSION}", "dist": dist}},
            "time": {"created": FIXED_ISO, "modified": FIXED_ISO, VERSION: FIXED_ISO},
        }


def npm_tarball(files):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, FIXED_EPOCH
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), mtime=0)


def host_port(host, port):
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


# --- pypi: a PEP 503 simple index of one wheel -------------------------------------------------


class PypiIndex:
    """tollgate-fixture 1.0.0 as a wheel built in memory, under /simple/ and /packages/."""

    WHEEL_NAME = f"tollgate_fixture-{VERSION}-py3-none-any.whl"

    def __init__(self):
        self.wheel = build_wheel()
        digest = hashlib.sha256(self.wheel).hexdigest()
        # Relative links: they follow whatever host name the client used (through a proxy too).
        self.project_page = html_page(
            f"Links for {PACKAGE}",
            f'<a href="../../packages/{self.WHEEL_NAME}#sha256={digest}">{self.WHEEL_NAME}</a>')
        self.root_page = html_page("Simple index", f'<a href="{PACKAGE}/">{PACKAGE}</a>')

    def __call__(self, handler, path):
        if path == "/simple/":
            return Reply(200, self.root_page, "text/html; charset=utf-8")
        match = re.fullmatch(r"/simple/([^/]+)(/?)", path)
        if match and normalize(match.group(1)) == PACKAGE:
            if not match.group(2):  # PEP 503: the URL without the slash redirects to it
                return Reply(301, b"", headers=[("Location", f"{match.group(1)}/")])
            return Reply(200, self.project_page, "text/html; charset=utf-8")
        if path == f"/packages/{self.WHEEL_NAME}":
            return Reply(200, self.wheel, "application/octet-stream")
        return None


def normalize(name):
    return re.sub(r"[-_.]+", "-", name).lower()  # PEP 503 name normalization


def html_page(title, body):
    return (f"<!DOCTYPE html>\n<html><head><meta name=\"pypi:repository-version\" content=\"1.0\">"
            f"<title>{title}</title></head>\n<body>{body}</body></html>\n").encode()


def build_wheel():
    dist_info = f"tollgate_fixture-{VERSION}.dist-info"
    files = {
        "tollgate_fixture/__init__.py":
            f'"""tollgate test fixture."""\n__version__ = "{VERSION}"\nTEXT = "{FIXTURE_TEXT}"\n',
        f"{dist_info}/METADATA":
            f"Metadata-Version: 2.1\nName: {PACKAGE}\nVersion: {VERSION}\n"
            "Summary: tollgate test fixture\nLicense: MIT\n",
        f"{dist_info}/WHEEL":
            "Wheel-Version: 1.0\nGenerator: tollgate-netservers\nRoot-Is-Purelib: true\n"
            "Tag: py3-none-any\n",
    }
    files = {name: text.encode() for name, text in files.items()}
    files[f"{dist_info}/RECORD"] = wheel_record(files, f"{dist_info}/RECORD")
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as wheel:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            wheel.writestr(info, data)
    return raw.getvalue()


def wheel_record(files, record_name):
    lines = []
    for name, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        lines.append(f"{name},sha256={digest},{len(data)}\n")
    lines.append(f"{record_name},,\n")  # RECORD cannot hash itself
    return "".join(lines).encode()


# --- git: a bare repository over the dumb HTTP protocol -----------------------------------------


def make_git_repository(directory):
    """A bare repository with one commit of README on main; returns (path, commit sha)."""
    repo = os.path.join(directory, "repo.git")
    env = git_environment()
    git = ["git", "--git-dir", repo]
    run(["git", "init", "--quiet", "--bare", "--initial-branch=main", repo], env=env)
    # Plumbing commands, so no work tree is needed and the commit is the same at every run.
    blob = run(git + ["hash-object", "-w", "--stdin"], stdin=f"{FIXTURE_TEXT}\n", env=env)
    tree = run(git + ["mktree"], stdin=f"100644 blob {blob}\tREADME\n", env=env)
    commit = run(git + ["commit-tree", tree, "-m", "tollgate fixture"], env=env)
    run(git + ["update-ref", "refs/heads/main", commit], env=env)
    run(git + ["update-server-info"], env=env)  # info/refs and objects/info/packs: dumb HTTP
    return repo, commit


def git_environment():
    # Neither the caller's git configuration nor its GIT_* variables may change the repository.
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull,
               GIT_AUTHOR_NAME="tollgate", GIT_AUTHOR_EMAIL="tollgate@example.invalid",
               GIT_AUTHOR_DATE=f"{FIXED_EPOCH} +0000", GIT_COMMITTER_NAME="tollgate",
               GIT_COMMITTER_EMAIL="tollgate@example.invalid",
               GIT_COMMITTER_DATE=f"{FIXED_EPOCH} +0000")
    return env


class GitFiles:
    """The repository's files, read-only, under /repo.git/."""

    PREFIX = "/repo.git/"

    def __init__(self, repo):
        self.repo = repo

    def __call__(self, handler, path):
        if not path.startswith(self.PREFIX) or handler.command not in ("GET", "HEAD"):
            return None
        relative = path[len(self.PREFIX):]
        parts = relative.split("/")
        if not relative or any(part in ("", ".", "..") for part in parts):
            return None  # nothing outside the repository, and no directory listings
        file = os.path.join(self.repo, *parts)
        if not os.path.isfile(file):
            return None
        with open(file, "rb") as f:
            data = f.read()
        # text/plain for info/refs is what tells git this is the dumb protocol.
        if relative == "info/refs":
            return Reply(200, data, "text/plain; charset=utf-8")
        return Reply(200, data, "application/octet-stream")


# --- lifetime ------------------------------------------------------------------------------


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bind", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--tls-dir", help="where to write the certificates (kept at exit)")
    parser.add_argument("--verbose", action="store_true", help="log requests on stderr")
    return parser.parse_args()


def start_servers(args, workdir):
    """Builds every service and starts its server; returns (servers, the JSON line's values)."""
    ca_file, cert, key = make_certificates(args.tls_dir or os.path.join(workdir, "tls"))
    repo, head = make_git_repository(os.path.join(workdir, "git"))
    services = {
        "http": (origin_service, None),
        "tls": (origin_service, tls_context(cert, key)),
        "npm": (NpmRegistry(), None),
        "pypi": (PypiIndex(), None),
        "git": (GitFiles(repo), None),
    }
    servers = []
    for name, (service, context) in services.items():
        servers.append(Server(name, args.bind, service, args.verbose, context))
        threading.Thread(target=servers[-1].serve_forever, args=(POLL_INTERVAL,), name=name,
                         daemon=True).start()
    info = {server.name: server.server_port for server in servers}
    info.update(ca_file=os.path.abspath(ca_file), git_head=head, npm_package=PACKAGE,
                pypi_package=PACKAGE, fixture_text=FIXTURE_TEXT)
    return servers, info


def stop_on_signals_and_eof(stop):
    for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(number, lambda *_: stop.set())

    def watch_stdin():
        try:
            while os.read(0, 65536):
                pass
        except OSError:
            pass  # no usable stdin counts as EOF
        stop.set()

    threading.Thread(target=watch_stdin, name="stdin", daemon=True).start()


def shut_down(servers):
    # In parallel: each shutdown waits up to one POLL_INTERVAL of its accept loop.
    threads = [threading.Thread(target=server.shutdown) for server in servers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for server in servers:
        server.server_close()


def main():
    args = parse_arguments()
    stop = threading.Event()
    stop_on_signals_and_eof(stop)
    workdir = tempfile.mkdtemp(prefix="tollgate-netservers-")
    os.chmod(workdir, 0o755)  # the sandbox never runs as host root, yet reads ca.pem here
    servers = []
    try:
        servers, info = start_servers(args, workdir)
        sys.stdout.write(json.dumps(info) + "\n")
        sys.stdout.flush()
        stop.wait()
    except (RuntimeError, OSError) as error:
        sys.stderr.write(f"netservers: {error}\n")
        return 1
    finally:
        shut_down(servers)
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
