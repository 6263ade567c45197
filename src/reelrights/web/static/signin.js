// Sign in: ask for a one-time challenge, sign its text with the party's key, post the signature.
"use strict";

(function () {
  const form = document.getElementById("sign-in");
  if (!form) return;
  const say = rrUi.notice("sign-in-status");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const party = form.party.value;
    if (!party) { say("Choose your party first.", "error"); return; }
    try {
      const file = document.getElementById("keyfile").files[0];
      if (file) await rrKeys.importPem(party, await file.text());
      const record = await rrUi.keyRecord(party, "Choose your key file: this browser does not hold this party's key yet.");
      const body = new URLSearchParams({ party });
      const r = await fetch("/sign-in/challenge", { method: "POST", body });
      if (!r.ok) throw new Error("the server refused the sign-in (" + r.status + ")");
      const challenge = await r.json();
      const sig = await rrKeys.sign(record, rrKeys.enc.encode(challenge.text));
      form.nonce.value = challenge.nonce;
      form.signature.value = rrKeys.b64(sig);
      say("Signed the challenge; signing in…");
      form.submit();
    } catch (err) {
      say("Could not sign in: " + err.message, "error");
    }
  });
})();
