"""The home folder: configuration, private keys, the SQLite database and the static log.

::

    <home>/
      home.json           origin, registry id, database URL (if not SQLite), passphrase variable per key
      reelrights.db       SQLite registry and log (WAL), unless REELRIGHTS_DATABASE_URL says otherwise
      keys/               0700; log.pem (the log's checkpoint key), operator.pem (the operator's
                          own statements: dispute decisions) and <party id>.pem, each 0600
      log/                the log as static C2SP tiles: checkpoint, tile/<L>/<N>, tile/entries/<N>
      log.vkey            a replica's copy of the log's public note key (instead of keys/log.pem)

A party's home that follows a server (``reelrights join``) records the server's URL in
home.json (``server``), pins the log's public key in ``log.vkey``, holds only its own party keys
and keeps its database as a read-only replica synced from the server's tiles
(:mod:`reelrights.replica.remote`). A party whose registration the server refused because its
key is not yet on the allowlist is kept in ``pending_parties`` (name -> id and kind), with its
key, so running ``party add`` again reuses both.

The home is chosen by ``--home``, then ``REELRIGHTS_HOME``, then ``~/.reelrights``. The database
URL is ``REELRIGHTS_DATABASE_URL``, then ``home.json``, then the SQLite file in the home.
"""

from __future__ import annotations

import base64
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from .core.statements import check_registry_id
from .errors import BadInput, InvalidStatement, NotFound
from .keys import PartyKey, load_key_file, write_key_file

__all__ = ["DEFAULT_ORIGIN", "Home"]

DEFAULT_ORIGIN = "reelrights.local/log"
_ORIGIN_RE = re.compile(r"^[^\s+/][^\s+]*$")


@dataclass
class Home:
    """One home folder (see the module doc): its log origin, its database, its keys.

    Make one with :meth:`init` (idempotent) and open it later with :meth:`open`.
    """

    path: Path
    origin: str = DEFAULT_ORIGIN
    database_url_setting: str | None = None
    passphrase_envs: dict[str, str] = field(default_factory=dict)
    #: The registry id statements are signed for (v2): set at init, or on first open of an
    #: older home. The log's registry.established statement makes it public.
    registry_setting: str | None = None
    #: The service this home follows (a party's home on its own machine), else None.
    server: str | None = None
    #: Parties whose registration a server refused for their key (not yet allowed): NFC name ->
    #: {"id": party id, "kind": kind}; the key is kept in keys/<id>.pem for the next attempt.
    pending_parties: dict[str, dict[str, str]] = field(default_factory=dict)

    # -- locating -------------------------------------------------------------------------
    @staticmethod
    def resolve(path: str | os.PathLike[str] | None = None) -> Path:
        chosen = path or os.environ.get("REELRIGHTS_HOME") or Path.home() / ".reelrights"
        return Path(chosen).expanduser().absolute()

    @classmethod
    def open(cls, path: str | os.PathLike[str] | None = None) -> Home:
        """Open an initialised home, or say how to create one."""
        root = cls.resolve(path)
        config = root / "home.json"
        if not config.exists():
            raise NotFound(f"{root} is not a reelrights home; run `reelrights init` "
                           f"(or pass --home DIR / set REELRIGHTS_HOME)")
        try:
            data = json.loads(config.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise BadInput(f"{config} is unreadable ({exc}); fix or remove it") from None
        return cls(root, data.get("origin", DEFAULT_ORIGIN), data.get("database_url"),
                   data.get("passphrase_envs", {}), data.get("registry"), data.get("server"),
                   data.get("pending_parties", {}))

    @classmethod
    def init(cls, path: str | os.PathLike[str] | None = None, *, origin: str | None = None,
             database_url: str | None = None, registry: str | None = None) -> tuple[Home, bool]:
        """Create the home and the log key if missing. Returns (home, created)."""
        root = cls.resolve(path)
        if (root / "home.json").exists():
            home = cls.open(root)
            if origin and origin != home.origin:
                raise BadInput(f"{root} already serves origin {home.origin!r}, not {origin!r}; "
                               "a log's origin never changes, so use a new --home for a new origin")
            return home, False
        origin = origin or DEFAULT_ORIGIN
        if not _ORIGIN_RE.match(origin):
            raise BadInput(f"origin {origin!r} must be a scheme-less URL without spaces or '+', "
                           "like example.com/log")
        root.mkdir(parents=True, exist_ok=True)
        (root / "keys").mkdir(mode=0o700, exist_ok=True)
        os.chmod(root / "keys", 0o700)
        (root / "log").mkdir(exist_ok=True)
        if registry is not None:
            try:
                check_registry_id(registry)
            except InvalidStatement:
                raise BadInput(f"--registry {registry!r} must be a lowercase DNS-style name with "
                               "an optional /path, like example.org/films") from None
        home = cls(root, origin, database_url, registry_setting=registry or _new_registry(origin))
        if not home.log_key_path.exists():
            write_key_file(home.log_key_path, PartyKey.generate())
        if not home.operator_key_path.exists():  # never the log key: docs/deploy.md, "Keys"
            write_key_file(home.operator_key_path, PartyKey.generate())
        home.save()
        return home, True

    @property
    def registry(self) -> str:
        """The registry id: the home's setting, else one made now (and saved) from the origin's
        host and 10 random base32 characters, so two deployments never share one."""
        if self.registry_setting is None:  # a home made before v2 statements
            self.registry_setting = _new_registry(self.origin)
            self.save()
        return self.registry_setting

    def save(self) -> None:
        data = {"origin": self.origin, "passphrase_envs": self.passphrase_envs}
        if self.registry_setting:
            data["registry"] = self.registry_setting
        if self.database_url_setting:
            data["database_url"] = self.database_url_setting
        if self.server:
            data["server"] = self.server
        if self.pending_parties:
            data["pending_parties"] = self.pending_parties
        tmp = self.path / "home.json.tmp"
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", "utf-8")
        os.replace(tmp, self.path / "home.json")

    # -- places -----------------------------------------------------------------------------
    @property
    def database_url(self) -> str:
        """``REELRIGHTS_DATABASE_URL``, else home.json's, else the SQLite file in the home. A
        party's home (``server`` set) keeps its replica in its own database, whatever the
        environment says: home.json's (``join --database-url``), else its SQLite file."""
        env = None if self.server else os.environ.get("REELRIGHTS_DATABASE_URL")
        return env or self.database_url_setting or f"sqlite:///{self.path / 'reelrights.db'}"

    @property
    def keys_dir(self) -> Path:
        return self.path / "keys"

    @property
    def log_dir(self) -> Path:
        return self.path / "log"

    @property
    def log_key_path(self) -> Path:
        return self.keys_dir / "log.pem"

    @property
    def vkey_path(self) -> Path:
        """A replica's copy of the log's public note key (it has no ``keys/log.pem``)."""
        return self.path / "log.vkey"

    def log_vkey(self) -> str:
        """The note verifier key of the home's log (``<origin>+<key id>+<base64>``): from the
        log's signing key, or, in a replica or a party's home, from the pinned public key."""
        if self.log_key_path.exists():
            from .core.note import NoteSigner

            return NoteSigner(self.origin, self.log_key().seed).vkey
        if self.vkey_path.exists():
            return self.vkey_path.read_text("utf-8").strip()
        raise NotFound(f"no log key at {self.log_key_path} and no {self.vkey_path.name}: "
                       f"{self.path} is not a complete home; run `reelrights init`, "
                       "`reelrights join` or `reelrights rebuild` again")

    @property
    def operator_key_path(self) -> Path:
        """The operator's own key: its statements (``registry.established`` names it), not the
        checkpoints. Homes made before it existed have none: the log key signs for them."""
        return self.keys_dir / "operator.pem"

    def party_key_path(self, party_id: str) -> Path:
        return self.keys_dir / f"{party_id}.pem"

    # -- keys -------------------------------------------------------------------------------
    def log_key(self) -> PartyKey:
        return load_key_file(self.log_key_path)

    def operator_key(self) -> PartyKey | None:
        """The operator's key, or None in a home that has none (the log key signs instead)."""
        if not self.operator_key_path.exists():
            return None
        return load_key_file(self.operator_key_path, self.passphrase_envs.get("operator"))

    def party_key(self, party_id: str) -> PartyKey:
        return load_key_file(self.party_key_path(party_id), self.passphrase_envs.get(party_id))

    def store_party_key(self, party_id: str, key: PartyKey, passphrase_env: str | None) -> None:
        passphrase = None
        if passphrase_env:
            value = os.environ.get(passphrase_env)
            if not value:
                raise BadInput(f"--passphrase-env {passphrase_env}: that variable is empty or "
                               "unset; export it with the passphrase first")
            passphrase = value.encode("utf-8")
        write_key_file(self.party_key_path(party_id), key, passphrase)
        if passphrase_env:
            self.passphrase_envs[party_id] = passphrase_env
            self.save()


def _new_registry(origin: str) -> str:
    """A registry id no other deployment shares: the origin's host and 10 random base32
    characters."""
    host = origin.split("/", 1)[0].lower()
    host = re.sub(r"[^a-z0-9.-]", "-", host).strip(".-") or "reelrights"
    return f"{host[:80]}/{base64.b32encode(os.urandom(10)).decode().lower()[:10]}"
