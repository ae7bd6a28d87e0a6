"""One module per command (`validate`, `audit`) over the shared `ingest`, and `options`: every
options type in one place. Kept empty so that `auditor.pipeline.options` imports nothing else."""
