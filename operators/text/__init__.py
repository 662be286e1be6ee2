"""Text operators: readers of existing corpora and the curation chain."""
