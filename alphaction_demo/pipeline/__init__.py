"""The engine: stage threads and their primitives, the clip schedule, the action predictor with its
long-term feature memory, track labels, and the live and offline pipelines."""
