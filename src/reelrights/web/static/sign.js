// Sign the statement the page shows with the key this browser holds, and send it to the log.
"use strict";

(function () {
  const form = document.getElementById("sign-form");
  if (!form) return;
  const say = rrUi.notice("sign-status");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const party = form.dataset.party;
    const statement = JSON.parse(form.dataset.statement);
    try {
      const record = await rrUi.keyRecord(party, "This browser does not hold your key: sign in again with your key file.");
      const who = await (await fetch("/v1/parties/" + party)).json();
      const envelope = await rrKeys.signStatement(record, statement, who.public_key);
      document.getElementById("sign-button").disabled = true;
      const receipt = (await rrUi.submit(envelope, false))[0];
      const status = say("Signed and logged" + (receipt && receipt.index !== undefined ? " as entry #" + receipt.index : "") + ".", "ok");
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
