"""News: discovery (robots.txt, sitemaps, feeds, links), polite fetching into WARC, and
extraction of articles from WARC response records. No Ray here; flows/news.py wires it."""
from operators.news.extract import NAME as EXTRACT_NAME
from operators.news.extract import extract_document
from operators.news.state import FETCH_NAME
from operators.news.warc import iter_warc_responses

__all__ = ["EXTRACT_NAME", "FETCH_NAME", "extract_document", "iter_warc_responses"]
