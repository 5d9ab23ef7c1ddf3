"""Applicant minimum-qualification screening.

Class specifications become JobSpecs, JobSpecs become durable_rules rulesets, and applicant
batches are screened into explained, reproducible decisions.
"""

__version__ = "0.1.0"
