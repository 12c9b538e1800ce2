"""``make bench``: how fast one window's platform accepts and routes, beside baselines measured
in the same run on the same machine (absolute figures drift on a shared machine; ratios do
not)."""
