"""Sample applicant data for the screening engine and its generator."""
