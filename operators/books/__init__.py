"""Book operators: page extraction and routing, OCR, assembly into documents."""
