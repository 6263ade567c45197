// The party's key in this browser: imported once from the CLI's PKCS#8 PEM file into WebCrypto,
// or made here (generateKey), as a NON-extractable Ed25519 key (no script, not even this one,
// can read it back), kept in IndexedDB by party id, used to sign. Also RFC 8785 (JCS) canonical
// JSON, so a statement signed here has the same bytes as one the CLI signs.
// A key made here signs nothing until its offline recovery key's registration is logged
// (docs/web.md): the record says so, and every signing function below checks it.
"use strict";

window.rrKeys = (function () {
  const DB = "reelrights-keys", STORE = "keys";
  const enc = new TextEncoder();

  function openDb() {
    return new Promise((resolve, reject) => {
      const req = indexedDB.open(DB, 1);
      req.onupgradeneeded = () => req.result.createObjectStore(STORE);
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }
  // A record: {key: CryptoKey, origin: "import" | "browser", recoveryLogged: bool}. An older
  // entry is a bare CryptoKey (an imported key).
  async function put(party, key) {
    const db = await openDb();
    return new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, "readwrite");
      tx.objectStore(STORE).put(key, party);
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
    });
  }
  async function getRecord(party) {
    const db = await openDb();
    const found = await new Promise((resolve, reject) => {
      const req = db.transaction(STORE).objectStore(STORE).get(party);
      req.onsuccess = () => resolve(req.result || null);
      req.onerror = () => reject(req.error);
    });
    if (found instanceof CryptoKey) return { key: found, origin: "import", recoveryLogged: true };
    return found;
  }
  async function get(party) {
    const record = await getRecord(party);
    return record ? record.key : null;
  }
  const NO_RECOVERY = "This key was made in this browser and has no recovery key registered " +
    "yet, so it signs nothing: make and save your recovery key first.";
  // The rule: a browser-made key signs only the batch that registers its recovery key, until
  // that registration is logged.
  function guard(keyOrRecord, types) {
    if (keyOrRecord instanceof CryptoKey) return keyOrRecord;
    if (!keyOrRecord || !keyOrRecord.key) throw new Error("no key");
    if (keyOrRecord.origin === "browser" && !keyOrRecord.recoveryLogged &&
        !types.includes("key.recovery.set")) throw new Error(NO_RECOVERY);
    return keyOrRecord.key;
  }
  function b64(bytes) {
    return btoa(String.fromCharCode(...new Uint8Array(bytes)));
  }
  function unb64(text) {
    return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  }
  async function importPem(party, pem) {
    if (pem.includes("ENCRYPTED PRIVATE KEY")) {
      throw new Error("this key file is encrypted; decrypt a copy first (openssl pkey -in KEY.pem -out plain.pem)");
    }
    const m = pem.match(/-----BEGIN PRIVATE KEY-----([\s\S]+?)-----END PRIVATE KEY-----/);
    if (!m) throw new Error("this is not a PKCS#8 private key file (BEGIN PRIVATE KEY)");
    const key = await crypto.subtle.importKey("pkcs8", unb64(m[1].replace(/\s+/g, "")),
                                              { name: "Ed25519" }, false, ["sign"]);
    await put(party, key);
    return key;
  }
  async function sign(key, bytes) {
    return new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, guard(key, []), bytes));
  }
  // A new signing key for `party`: non-extractable, kept here, waiting for its recovery key.
  async function generate(party) {
    const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"]);
    const publicKey = b64(await crypto.subtle.exportKey("raw", pair.publicKey));
    const record = { key: pair.privateKey, origin: "browser", recoveryLogged: false, publicKey };
    await put(party, record);
    return record;
  }
  async function markRecoveryLogged(party) {
    const record = await getRecord(party);
    record.recoveryLogged = true;
    await put(party, record);
  }
  function pem(der) {
    const body = b64(der).match(/.{1,64}/g).join("\n");
    return "-----BEGIN PRIVATE KEY-----\n" + body + "\n-----END PRIVATE KEY-----\n";
  }
  // The offline recovery key: made extractable (its private half goes to a key file, once),
  // its proof of possession signed now (core/key_history.py possession_message); the private
  // key itself is not kept: the caller gets the PEM text, the public key and the proof only.
  async function makeRecoveryKey(registry, party, seq) {
    const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"]);
    const publicKey = b64(await crypto.subtle.exportKey("raw", pair.publicKey));
    const message = enc.encode("reelrights/key-possession/v1\n" +
                               [registry, party, String(seq), "recovery", publicKey].join("\n"));
    const proof = b64(await crypto.subtle.sign({ name: "Ed25519" }, pair.privateKey, message));
    const text = pem(await crypto.subtle.exportKey("pkcs8", pair.privateKey));
    return { publicKey, proof, pem: text };
  }
  // RFC 8785: object keys sorted by UTF-16 code units, ECMAScript number and string forms.
  function jcs(value) {
    if (value === null || typeof value === "boolean") return JSON.stringify(value);
    if (typeof value === "number") {
      if (!Number.isFinite(value)) throw new Error("JCS: not a finite number");
      return JSON.stringify(value);
    }
    if (typeof value === "string") return JSON.stringify(value);
    if (Array.isArray(value)) return "[" + value.map(jcs).join(",") + "]";
    const keys = Object.keys(value).sort();
    return "{" + keys.map((k) => JSON.stringify(k) + ":" + jcs(value[k])).join(",") + "}";
  }
  async function keyId(publicKeyB64) {
    const d = new Uint8Array(await crypto.subtle.digest("SHA-256", unb64(publicKeyB64)));
    return Array.from(d.slice(0, 8), (b) => b.toString(16).padStart(2, "0")).join("");
  }
  // A v2 statement envelope, exactly as core/statements.py sign_statement makes it.
  async function envelope(key, statement, publicKeyB64) {
    const message = enc.encode("reelrights/statement/v2\n" + statement.registry + "\n" +
                               jcs(statement));
    const sig = new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, key, message));
    return jcs({ signature: { alg: "Ed25519", keyid: await keyId(publicKeyB64), sig: b64(sig) },
                 statement });
  }
  async function signStatement(key, statement, publicKeyB64) {
    return envelope(guard(key, [statement.type]), statement, publicKeyB64);
  }
  // Several statements as one all-or-nothing batch (application/jsonl).
  async function signBatch(key, statements, publicKeyB64) {
    const k = guard(key, statements.map((s) => s.type));
    const lines = [];
    for (const s of statements) lines.push(await envelope(k, s, publicKeyB64));
    return lines.join("\n") + "\n";
  }
  return { importPem, get, getRecord, generate, markRecoveryLogged, makeRecoveryKey, sign, jcs,
           b64, signStatement, signBatch, enc };
})();
