"""Identity: who a party is and which key speaks for it over time."""
