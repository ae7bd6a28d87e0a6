"""Run a pandera schema over a canonical frame and turn every failure into reject rows."""
