"""call-auditor: prove, line by line, why call logs, usage records and PBX CDRs disagree."""

__version__ = "0.1.0"
