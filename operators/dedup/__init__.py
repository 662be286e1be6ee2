"""Near-duplicate detection: MinHash signatures, LSH band keys, connected components."""
