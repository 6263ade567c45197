"""Rights: bundles under ODRL terms, licenses, performers' consent, the policy engine, disputes
and the Croissant export."""
