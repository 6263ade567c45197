// Checks, in the browser, that a log entry is in the log: RFC 9162 hashing (leaf 0x00, node
// 0x01, SHA-256 by WebCrypto), the inclusion proof climbed to the root, and the log's Ed25519
// signature on the checkpoint (C2SP signed note) checked with the log's public key.
// It trusts nothing the page says: it fetches the entry bytes, the proof and the signed
// checkpoint, and shows the log key it used so a reader can compare it with the one she trusts.
"use strict";

(function () {
  const section = document.getElementById("proof");
  if (!section) return;
  const index = Number(section.dataset.index);
  const result = document.getElementById("proof-result");
  const steps = document.getElementById("proof-steps");
  const enc = new TextEncoder();

  function hex(bytes) {
    return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
  }
  function fromHex(text) {
    const out = new Uint8Array(text.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(text.substr(i * 2, 2), 16);
    return out;
  }
  function fromB64(text) {
    const bin = atob(text);
    return Uint8Array.from(bin, (c) => c.charCodeAt(0));
  }
  function concat(...parts) {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) { out.set(p, at); at += p.length; }
    return out;
  }
  async function sha256(bytes) {
    return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  }
  function step(text) {
    const li = document.createElement("li");
    li.textContent = text;
    steps.appendChild(li);
  }
  async function getJson(url) {
    const r = await fetch(url, { headers: { accept: "application/json" } });
    if (!r.ok) throw new Error(url + " answered " + r.status);
    return r.json();
  }

  // RFC 9162 section 2.1.3.2: the root from a leaf hash and its inclusion proof.
  async function rootFromProof(leafIndex, treeSize, leafHash, proof) {
    if (leafIndex >= treeSize) throw new Error("the index is outside the tree");
    let fn = leafIndex, sn = treeSize - 1, r = leafHash;
    const node = new Uint8Array([1]);
    for (const p of proof) {
      if (sn === 0) throw new Error("the proof is longer than the tree is deep");
      if (fn % 2 === 1 || fn === sn) {
        r = await sha256(concat(node, p, r));
        if (fn % 2 === 0) {
          while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
        }
      } else {
        r = await sha256(concat(node, r, p));
      }
      fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
    }
    if (sn !== 0) throw new Error("the proof is shorter than the tree is deep");
    return r;
  }

  // C2SP signed note: the body, then "\n", then lines "— <name> <base64(keyhash4 || sig)>".
  async function checkNote(note, vkey) {
    // name+hash+base64: the base64 part may itself hold "+", so cut at the first two only
    const i = vkey.indexOf("+"), j = vkey.indexOf("+", i + 1);
    const name = vkey.slice(0, i), keyHash = vkey.slice(i + 1, j), keyB64 = vkey.slice(j + 1);
    const keyBytes = fromB64(keyB64);
    if (keyBytes[0] !== 1 || keyBytes.length !== 33) throw new Error("the log key is not Ed25519");
    const id = (await sha256(concat(enc.encode(name + "\n"), keyBytes))).slice(0, 4);
    if (hex(id) !== keyHash) throw new Error("the log key's hash does not match the key");
    const cut = note.indexOf("\n\n");
    const body = note.slice(0, cut + 1);
    const lines = note.slice(cut + 2).split("\n").filter((l) => l.startsWith("\u2014 "));
    const key = await crypto.subtle.importKey("raw", keyBytes.slice(1), { name: "Ed25519" },
                                              false, ["verify"]);
    for (const line of lines) {
      const [who, sig] = line.slice(2).split(" ");
      const raw = fromB64(sig);
      if (who !== name || hex(raw.slice(0, 4)) !== keyHash) continue;
      if (await crypto.subtle.verify({ name: "Ed25519" }, key, raw.slice(4), enc.encode(body))) {
        const [origin, size, root] = body.split("\n");
        return { origin, size: Number(size), root: fromB64(root) };
      }
      throw new Error("the log's signature on the checkpoint does not verify");
    }
    throw new Error("the checkpoint carries no signature by the log key " + name);
  }

  async function check() {
    steps.textContent = "";
    result.className = "notice";
    result.textContent = "Checking…";
    try {
      const log = await getJson("/v1/log");
      step("Log key: " + log.log_key);
      const cp = await checkNote(log.checkpoint, log.log_key);
      step("The checkpoint is signed by the log key: " + cp.size + " entries, root " +
           hex(cp.root));
      const entry = await getJson("/v1/entries/" + index);
      const leaf = await sha256(concat(new Uint8Array([0]), enc.encode(entry.entry)));
      step("Leaf hash of the entry's " + enc.encode(entry.entry).length + " bytes: " + hex(leaf));
      if (hex(leaf) !== entry.leaf_hash) throw new Error("the entry's bytes do not hash to its leaf hash");
      const proof = await getJson("/v1/proofs/inclusion?index=" + index + "&size=" + cp.size);
      const root = await rootFromProof(index, cp.size, leaf, proof.proof.map(fromHex));
      step("Root from the " + proof.proof.length + "-hash proof: " + hex(root));
      if (hex(root) !== hex(cp.root)) throw new Error("the proof leads to a different root than the checkpoint's");
      result.className = "notice ok";
      result.textContent = "Verified in your browser: entry #" + index + " is in the log " +
        cp.origin + " of " + cp.size + " entries, whose checkpoint the log signed.";
      section.dataset.verified = "true";
    } catch (err) {
      result.className = "notice error";
      result.textContent = "Not verified: " + err.message;
      section.dataset.verified = "false";
    }
  }

  document.getElementById("check-proof").addEventListener("click", check);
  check();
})();
