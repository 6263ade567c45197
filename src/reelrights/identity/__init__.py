"""Identity: who a party is and which key speaks for it over time. Admission (how its identity
was verified: a domain it controls, a guild's attestation, an operator's documented check), the
server-issued nonces a domain proof carries, the domain fetcher, re-verification every 90 days,
the label shown beside every party's name (docs/identity.md); keys over time, recovery and
statement disputes (docs/keys.md)."""
