// Sign the statement the page shows with the key this browser holds, and send it to the log.
"use strict";

(function () {
  const form = document.getElementById("sign-form");
  if (!form) return;
  const status = document.getElementById("sign-status");
  function say(text, kind) {
    status.hidden = false;
    status.className = "notice " + (kind || "");
    status.textContent = text;
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const party = form.dataset.party;
    const statement = JSON.parse(form.dataset.statement);
    try {
      const key = await rrKeys.get(party);
      if (!key) { say("This browser does not hold your key: sign in again with your key file.", "error"); return; }
      const who = await (await fetch("/v1/parties/" + party)).json();
      const envelope = await rrKeys.signStatement(key, statement, who.public_key);
      document.getElementById("sign-button").disabled = true;
      const r = await fetch("/v1/statements", {
        method: "POST", headers: { "content-type": "application/json" }, body: envelope });
      const answer = await r.json();
      if (!r.ok) throw new Error(answer.detail || ("the log refused it (" + r.status + ")"));
      const receipt = Array.isArray(answer) ? answer[0] : (answer.receipts ? answer.receipts[0] : answer);
      say("Signed and logged" + (receipt && receipt.index !== undefined ? " as entry #" + receipt.index : "") + ".", "ok");
      form.dataset.done = "true";
      const back = document.createElement("a");
      back.href = form.dataset.back;
      back.textContent = "Back to your page";
      status.appendChild(document.createTextNode(" "));
      status.appendChild(back);
    } catch (err) {
      document.getElementById("sign-button").disabled = false;
      say("Not signed: " + err.message, "error");
      form.dataset.done = "false";
    }
  });
})();
