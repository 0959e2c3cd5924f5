"""sluicegate: a sandboxed runtime for Deluge business scripts."""
