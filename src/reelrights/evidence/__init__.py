"""Evidence: fingerprints and scans, training-run commitments, sampled audits and their certificates, the EU summary."""
