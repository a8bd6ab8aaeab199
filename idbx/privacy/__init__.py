"""Learner privacy: pseudonymous ids, country by IP, removing PII from bronze (scrub)."""
