// What the acting pages share: a status line that speaks (role=status), and sending signed
// statements to the log (POST /v1/statements), its refusal shown in the log's own words.
"use strict";

window.rrUi = (function () {
  // say(text, kind) on the element with this id; kind: "", "ok" or "error".
  function notice(id) {
    const status = document.getElementById(id);
    return function say(text, kind) {
      status.hidden = false;
      status.className = "notice " + (kind || "");
      status.textContent = text;
      return status;
    };
  }
  // The browser's record of `party`'s key, or an Error saying how to get one here.
  async function keyRecord(party, missing) {
    const record = await rrKeys.getRecord(party);
    if (!record) throw new Error(missing);
    return record;
  }
  // One envelope (application/json) or a batch (application/jsonl); the receipts, or an Error
  // carrying the log's refusal (RFC 9457 detail).
  async function submit(body, batch) {
    const r = await fetch("/v1/statements", {
      method: "POST", headers: { "content-type": batch ? "application/jsonl" : "application/json" },
      body });
    const answer = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(answer.detail || ("the log refused it (" + r.status + ")"));
    return Array.isArray(answer) ? answer : (answer.receipts || [answer]);
  }
  return { notice, keyRecord, submit };
})();
