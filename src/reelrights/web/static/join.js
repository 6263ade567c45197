// Join with a key made here: (1) the signing key, non-extractable, kept in IndexedDB; (2) the
// offline recovery key, shown once as a key file, its possession proven, then forgotten; (3) the
// registration and the recovery key's statement signed together and sent as one batch. The
// signing code (keys.js) refuses to sign anything with the new key until (3) is logged.
"use strict";

(function () {
  const form = document.getElementById("join");
  if (!form) return;
  const say = rrUi.notice("join-status");
  const party = form.dataset.party, registry = form.dataset.registry;
  const box = document.getElementById("recovery"), pemBox = document.getElementById("recovery-pem");
  const link = document.getElementById("recovery-download");
  let record = null, recovery = null, fileUrl = null;

  document.getElementById("make-key").addEventListener("click", async (event) => {
    try {
      record = await rrKeys.generate(party);
      event.target.disabled = true;
      document.getElementById("make-recovery").disabled = false;
      form.dataset.key = "made";
      say("Your key is made and kept in this browser. Before it signs anything, make your recovery key (step 2).", "ok");
    } catch (err) {
      say("Could not make a key: " + err.message, "error");
    }
  });

  document.getElementById("make-recovery").addEventListener("click", async (event) => {
    try {
      const made = await rrKeys.makeRecoveryKey(registry, party, 1);
      recovery = { publicKey: made.publicKey, proof: made.proof };
      pemBox.value = made.pem;
      fileUrl = URL.createObjectURL(new Blob([made.pem], { type: "application/x-pem-file" }));
      link.href = fileUrl;
      link.download = "reelrights-recovery-" + party + ".pem";
      box.hidden = false;
      event.target.disabled = true;
      say("Save your recovery key file now: it is shown only on this page, once.", "warn");
    } catch (err) {
      say("Could not make a recovery key: " + err.message, "error");
    }
  });

  function forget() {
    pemBox.value = "";
    if (fileUrl) URL.revokeObjectURL(fileUrl);
    link.removeAttribute("href");
    box.hidden = true;
    recovery = null;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      if (!record) throw new Error("make your key first (step 1).");
      const ready = recovery !== null && document.getElementById("recovery-saved").checked;
      if (recovery !== null && !ready) throw new Error("tick that you saved your recovery key file (step 2).");
      const fields = { party, kind: document.getElementById("join-kind").value,
                       name: document.getElementById("join-name").value,
                       public_key: record.publicKey };
      if (ready) Object.assign(fields, { recovery_key: recovery.publicKey, recovery_proof: recovery.proof });
      const r = await fetch("/join/statements", { method: "POST", body: new URLSearchParams(fields) });
      const statements = await r.json();
      if (!r.ok) throw new Error(statements.detail || ("the server refused it (" + r.status + ")"));
      const batch = await rrKeys.signBatch(record, statements, record.publicKey);
      const receipts = await rrUi.submit(batch, true);
      await rrKeys.markRecoveryLogged(party);
      forget();
      form.dataset.done = "true";
      const status = say("Joined: your registration is entry #" + receipts[0].index +
                         " and your recovery key's entry #" + receipts[1].index + ".", "ok");
      const next = document.createElement("a");
      next.href = "/sign-in?party=" + encodeURIComponent(party);
      next.textContent = "Sign in now";
      status.appendChild(document.createTextNode(" "));
      status.appendChild(next);
    } catch (err) {
      say("Not signed: " + err.message, "error");
      form.dataset.done = "false";
    }
  });
})();
