"""In-memory fake of the Hugging Face Hub HTTP API, for tests (stdlib only).

What it is for: letting the real ``huggingface_hub`` client (checked against 2.4.0) run
``whoami``, ``create_repo``, ``create_branch``, ``create_commit`` / ``upload_file`` /
``upload_folder``, ``snapshot_download`` and ``hf_hub_download`` against 127.0.0.1, so that
publishing and downloading code can be tested end to end without a network. ``HF_ENDPOINT`` must
be set to ``FakeHub.url`` before ``huggingface_hub`` is imported (it reads it at import time).
Every request is recorded in ``FakeHub.requests``; ``truncate`` serves a damaged file.
Spaces work too (``repo_type="space"``): ``create_repo`` keeps the SDK and ``space_variables``,
``add_space_variable`` / ``get_space_variables`` / ``delete_space_variable`` work, and a Space
takes commits and serves downloads like a model repo; no runtime, hardware, secrets or builds.

What it is NOT: a Hub emulator. Model and Space repos only (no datasets), no organisations, no
LFS or Xet (preupload always answers "regular", so file content travels base64 inside the NDJSON
commit), no tags, pull requests, pagination, gating, Range requests or deletion of repos and
branches. Commit shas are random 40-hex ids, not git objects; file oids/ETags are real git blob
sha1s. A new repo starts with one empty commit (the real Hub adds a ``.gitattributes`` file).
Preupload returns no remote oids, so unchanged files are re-committed (the real Hub skips them).
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

BODY_LOG_LIMIT = 1 << 20  # bytes of each request body kept in FakeHub.requests
REPO_TYPES = {"models": "model", "spaces": "space"}  # /api/{plural}/... -> repo type
URL_PREFIX = {"model": "", "space": "spaces/"}  # web URLs: /{repo_id}, /spaces/{repo_id}


class HubError(Exception):
    """An HTTP error answered the way the Hub does: JSON ``{"error": ...}`` + X-Error-* headers."""

    def __init__(self, status, message, code=None, headers=None, extra=None):
        super().__init__(message)
        self.status, self.message, self.code = status, message, code
        self.headers, self.extra = headers or {}, extra or {}


class Headers(dict):
    """Request headers with case-insensitive lookups (keys are stored lower-case)."""

    def __init__(self, items):
        super().__init__((k.lower(), v) for k, v in items)

    def __getitem__(self, key):
        return super().__getitem__(key.lower())

    def __contains__(self, key):
        return super().__contains__(key.lower())

    def get(self, key, default=None):
        return super().get(key.lower(), default)


def git_blob_oid(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _json(obj, status=200):
    return status, {"Content-Type": "application/json"}, json.dumps(obj).encode()


class FakeHub:
    def __init__(self, users: dict[str, str] | None = None):
        self.users = dict(users if users is not None else {"hf_test_token": "alice"})
        # (repo_type, repo_id) -> {"type", "owner", "private", "branches", "commits"}, and for a
        # Space also "sdk" and "variables" ({key: {"value", "description"?, "updatedAt"}})
        self.repos: dict[tuple[str, str], dict] = {}
        self.requests: list[dict] = []  # {"method", "path", "query", "headers", "body"}
        self.url = ""
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> str:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.hub = self  # type: ignore[attr-defined]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # ---- helpers for tests (they see private repos too) ----------------------------------------
    # ``repo_type`` None means the model repo of that name, else the Space (KeyError if neither).
    def files(
        self, repo_id: str, revision: str = "main", *, repo_type: str | None = None
    ) -> dict[str, bytes]:
        with self._lock:
            commit = self._commit(self._stored(repo_id, repo_type), revision)
            return {p: data for p, (_, data) in commit["files"].items()}

    def commits(
        self, repo_id: str, revision: str = "main", *, repo_type: str | None = None
    ) -> list[str]:
        with self._lock:
            repo = self._stored(repo_id, repo_type)
            sha, chain = self._commit(repo, revision)["sha"], []
            while sha:
                chain.append(sha)
                sha = repo["commits"][sha]["parent"]
            return chain[::-1]

    def space_variables(self, repo_id: str) -> dict[str, str]:
        with self._lock:
            variables = self._stored(repo_id, "space")["variables"]
            return {key: v["value"] for key, v in variables.items()}

    def space_sdk(self, repo_id: str) -> str | None:
        with self._lock:
            return self._stored(repo_id, "space")["sdk"]

    def truncate(
        self,
        repo_id: str,
        revision: str,
        filename: str,
        n_bytes: int,
        *,
        repo_type: str | None = None,
    ) -> None:
        """Keep only the first ``n_bytes`` of ``filename`` in the commit ``revision`` points to.

        Commit sha, file oid and ETag stay the same; HEAD/GET/tree then report and serve the short
        content, so the client downloads it without complaint (a silently damaged download).
        """
        with self._lock:
            files = self._commit(self._stored(repo_id, repo_type), revision)["files"]
            oid, data = files[filename]
            if not 0 <= n_bytes < len(data):
                raise ValueError(f"n_bytes must be in [0, {len(data)}) to shorten {filename}")
            files[filename] = (oid, data[:n_bytes])

    # ---- state ---------------------------------------------------------------------------------
    def _stored(self, repo_id, repo_type=None):
        for kind in [repo_type] if repo_type else ["model", "space"]:
            if (kind, repo_id) in self.repos:
                return self.repos[kind, repo_id]
        raise KeyError(f"no {repo_type or 'model or space'} repo {repo_id!r} in FakeHub")

    def _commit(self, repo, revision):
        return repo["commits"][self._resolve(repo, revision)]

    def _repo(self, key, user):
        repo = self.repos.get(key)
        if repo is None or (repo["private"] and user != repo["owner"]):
            raise HubError(404, "Repository not found", "RepoNotFound")
        return repo

    def _resolve(self, repo, revision, branch_only=False):
        sha = repo["branches"].get(revision, None if branch_only else revision)
        if sha not in repo["commits"]:
            raise HubError(404, f"Invalid rev id: {revision}", "RevisionNotFound")
        return sha

    def _new_commit(self, repo, branch, files, title):
        parent = repo["branches"].get(branch)
        sha = hashlib.sha1(f"{parent}|{title}|{time.time_ns()}".encode()).hexdigest()
        date = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
        repo["commits"][sha] = {"sha": sha, "parent": parent, "files": files, "date": date}
        repo["branches"][branch] = sha
        return sha

    def _user(self, headers):
        token = (headers.get("Authorization") or "").removeprefix("Bearer ").strip()
        if token and token not in self.users:
            raise HubError(401, "Invalid credentials in Authorization header")
        return self.users.get(token)  # None: anonymous

    def _writable(self, key, user):
        if user is None:
            raise HubError(401, "You must be authenticated to write to a repo")
        repo = self._repo(key, user)
        if repo["owner"] != user:
            raise HubError(403, f"You don't have the rights to write to {key[1]}")
        return repo

    # ---- HTTP API ------------------------------------------------------------------------------
    def _handle(self, method, path, query, headers, body):
        user = self._user(headers)
        if (method, path) == ("GET", "/api/whoami-v2"):
            if user is None:
                raise HubError(401, "Invalid credentials in Authorization header")
            auth = {"type": "access_token", "accessToken": {"role": "write"}}
            return _json({"type": "user", "name": user, "fullname": user, "orgs": [], "auth": auth})
        if (method, path) == ("POST", "/api/validate-yaml"):
            return _json({"errors": [], "warnings": []})
        if (method, path) == ("POST", "/api/repos/create"):
            return self._create_repo(user, json.loads(body or b"{}"))
        # Revisions and tree paths arrive %-encoded as one segment ("refs%2Fpr%2F1").
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if len(parts) >= 4 and parts[0] == "api" and parts[1] in REPO_TYPES:
            # /api/{models|spaces}/{repo}/{action}/...
            repo_type, repo_id = REPO_TYPES[parts[1]], f"{parts[2]}/{parts[3]}"
            action, rest = (parts[4:5] or [""])[0], parts[5:]
        elif len(parts) >= 6 and parts[0] == "spaces" and parts[3] == "resolve":
            # /spaces/{repo}/resolve/{rev}/{filename}
            repo_type, repo_id, action, rest = "space", "/".join(parts[1:3]), "resolve", parts[4:]
        elif len(parts) >= 5 and parts[2] == "resolve":  # /{repo}/resolve/{rev}/{filename}
            repo_type, repo_id, action, rest = "model", "/".join(parts[:2]), "resolve", parts[3:]
        else:
            raise HubError(404, f"FakeHub: unsupported endpoint {method} {path}")
        key = (repo_type, repo_id)
        if repo_type == "space" and action == "variables" and not rest:
            return self._variables(key, user, method, body)
        rev = rest[0] if rest else "main"
        if method in ("GET", "HEAD"):
            repo = self._repo(key, user)
            if action in ("", "revision"):
                return _json(self._info(repo_id, repo, self._resolve(repo, rev)))
            if action == "tree":
                files = repo["commits"][self._resolve(repo, rev)]["files"]
                recursive = query.get("recursive", ["false"])[0].lower() in ("1", "true")
                return _json(self._tree(files, "/".join(rest[1:]), recursive))
            if action == "resolve":
                return self._resolve_file(repo, rev, "/".join(rest[1:]))
        if method == "POST" and action in ("preupload", "commit", "branch"):
            repo = self._writable(key, user)
            if action == "preupload":  # every file goes "regular": base64 inside the commit
                head = self._resolve(repo, rev, branch_only=True)
                mode = {"uploadMode": "regular", "shouldIgnore": False}
                modes = [{"path": f["path"], **mode} for f in json.loads(body)["files"]]
                return _json({"files": modes, "commitOid": head})
            if action == "commit":
                return self._commit_post(repo_id, repo, rev, body)
            if rev in repo["branches"]:
                raise HubError(409, f"Reference already exists: refs/heads/{rev}")
            start = json.loads(body or b"{}").get("startingPoint") or "main"
            repo["branches"][rev] = self._resolve(repo, start)
            return _json({})
        raise HubError(404, f"FakeHub: unsupported endpoint {method} {path}")

    def _create_repo(self, user, payload):
        if user is None:
            raise HubError(401, "Invalid username or password.")
        namespace = payload.get("organization") or user
        repo_id, repo_type = f"{namespace}/{payload['name']}", payload.get("type") or "model"
        if repo_type not in URL_PREFIX:
            raise HubError(400, "FakeHub only supports model and space repos")
        if namespace != user:
            msg = f"You don't have the rights to create a {repo_type} under the namespace "
            msg += f'"{namespace}"'
            raise HubError(403, msg)
        url = f"{self.url}/{URL_PREFIX[repo_type]}{repo_id}"
        if (repo_type, repo_id) in self.repos:  # the client reads "url" even on 409
            raise HubError(409, f"You already created this {repo_type} repo", extra={"url": url})
        private = payload.get("visibility") == "private" or payload.get("private") is True
        repo = {"type": repo_type, "owner": user, "private": private, "branches": {}, "commits": {}}
        if repo_type == "space":
            repo.update(sdk=payload.get("sdk"), variables={})
            for variable in payload.get("variables") or []:
                self._set_variable(repo, variable)
        self.repos[repo_type, repo_id] = repo
        self._new_commit(repo, "main", {}, "initial commit")
        return _json({"url": url, "name": repo_id, "id": repo_id})

    def _set_variable(self, repo, variable):
        date = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
        entry = {"value": str(variable["value"]), "updatedAt": date}
        if variable.get("description") is not None:
            entry["description"] = variable["description"]
        repo["variables"][variable["key"]] = entry

    def _variables(self, key, user, method, body):  # /api/spaces/{repo}/variables
        if method == "GET":
            return _json(self._writable(key, user)["variables"])  # settings: owner only
        repo, payload = self._writable(key, user), json.loads(body or b"{}")
        if method == "POST":
            self._set_variable(repo, payload)
        elif method == "DELETE":
            repo["variables"].pop(payload["key"], None)
        else:
            raise HubError(405, f"FakeHub: unsupported method {method} for Space variables")
        return _json(repo["variables"])

    def _info(self, repo_id, repo, sha):
        commit = repo["commits"][sha]
        files = sorted(commit["files"].items())
        siblings = [{"rfilename": p, "size": len(data), "blobId": oid} for p, (oid, data) in files]
        meta = {"id": repo_id, "author": repo["owner"], "sha": sha, "private": repo["private"]}
        meta.update({"sdk": repo["sdk"]} if repo["type"] == "space" else {})
        return {**meta, "lastModified": commit["date"], "gated": False, "siblings": siblings}

    def _tree(self, files, prefix, recursive):
        base = prefix.strip("/") + "/" if prefix.strip("/") else ""
        entries, dirs, folder = [], {}, {"type": "directory", "size": 0}
        for path, (oid, data) in sorted(files.items()):
            if not path.startswith(base):
                continue
            rel = path[len(base) :].split("/")
            for i in range(1, len(rel) if recursive else min(len(rel), 2)):
                d = base + "/".join(rel[:i])  # folder oids are fake, not git tree hashes
                dirs[d] = {**folder, "path": d, "oid": git_blob_oid(d.encode())}
            if recursive or len(rel) == 1:
                entries.append({"type": "file", "oid": oid, "size": len(data), "path": path})
        if base and not entries and not dirs:
            raise HubError(404, f"Entry not found: {prefix}", "EntryNotFound")
        return [dirs[d] for d in sorted(dirs)] + entries

    def _resolve_file(self, repo, rev, filename):
        sha = self._resolve(repo, rev)
        if filename not in repo["commits"][sha]["files"]:
            raise HubError(404, "Entry not found", "EntryNotFound", {"X-Repo-Commit": sha})
        oid, data = repo["commits"][sha]["files"][filename]
        out = {"X-Repo-Commit": sha, "ETag": f'"{oid}"', "Content-Type": "application/octet-stream"}
        return 200, out, data

    def _commit_post(self, repo_id, repo, branch, body):
        head = self._resolve(repo, branch, branch_only=True)
        files, header = dict(repo["commits"][head]["files"]), {}
        for line in filter(None, body.splitlines()):
            item = json.loads(line)
            key, value = item["key"], item["value"]
            if key == "header":
                header = value
            elif key == "file":
                raw = value["content"]
                data = base64.b64decode(raw) if value.get("encoding") == "base64" else raw.encode()
                files[value["path"]] = (git_blob_oid(data), data)
            elif key == "deletedFile":
                if files.pop(value["path"], None) is None:
                    raise HubError(404, "A file with this name doesn't exist", "EntryNotFound")
            else:
                raise HubError(400, f"FakeHub does not support commit operation {key!r}")
        if header.get("parentCommit") not in (None, head):
            raise HubError(412, "A commit has happened since. Please refresh and try again.")
        sha = self._new_commit(repo, branch, files, header.get("summary", ""))
        url = f"{self.url}/{URL_PREFIX[repo['type']]}{repo_id}/commit/{sha}"
        return _json({"success": True, "commitOid": sha, "commitUrl": url, "hookOutput": ""})


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive like the real Hub; every response has a length
    timeout = 60

    def log_message(self, format, *args):  # keep test output quiet
        pass

    def _dispatch(self):
        hub: FakeHub = self.server.hub  # type: ignore[attr-defined]
        url = urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with hub._lock:
            record = {"method": self.command, "path": url.path, "query": url.query}
            record.update(headers=Headers(self.headers.items()), body=body[:BODY_LOG_LIMIT])
            hub.requests.append(record)
            try:
                args = (self.command, url.path, parse_qs(url.query), self.headers, body)
                status, headers, payload = hub._handle(*args)
            except Exception as exc:  # a bug in FakeHub (or a malformed request) answers 500
                e = exc if isinstance(exc, HubError) else HubError(500, f"FakeHub: {exc!r}")
                status, payload = e.status, json.dumps({"error": e.message, **e.extra}).encode()
                message = e.message.encode("ascii", "replace").decode()  # headers are latin-1
                headers = {"Content-Type": "application/json", "X-Error-Message": message}
                headers.update({"X-Error-Code": e.code} if e.code else {}, **e.headers)
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = _dispatch
