// The party's key in this browser: imported once from the CLI's PKCS#8 PEM file into WebCrypto
// as a NON-extractable Ed25519 key (no script, not even this one, can read it back), kept in
// IndexedDB by party id, used to sign. Also RFC 8785 (JCS) canonical JSON, so a statement signed
// here has the same bytes as one the CLI signs.
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
  async function put(party, key) {
    const db = await openDb();
    return new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, "readwrite");
      tx.objectStore(STORE).put(key, party);
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
    });
  }
  async function get(party) {
    const db = await openDb();
    return new Promise((resolve, reject) => {
      const req = db.transaction(STORE).objectStore(STORE).get(party);
      req.onsuccess = () => resolve(req.result || null);
      req.onerror = () => reject(req.error);
    });
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
    return new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, key, bytes));
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
  async function signStatement(key, statement, publicKeyB64) {
    const message = enc.encode("reelrights/statement/v2\n" + statement.registry + "\n" +
                               jcs(statement));
    const sig = await sign(key, message);
    const envelope = { signature: { alg: "Ed25519", keyid: await keyId(publicKeyB64),
                                    sig: b64(sig) }, statement };
    return jcs(envelope);
  }
  return { importPem, get, sign, jcs, b64, signStatement, enc };
})();
