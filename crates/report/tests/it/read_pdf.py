"""Reads a PDF with pypdf (an independent implementation) and prints, as JSON, what the tests
check: the page count, each page's size and extracted text, and the document information.

Usage: python3 read_pdf.py FILE.pdf
"""

import json
import sys

from pypdf import PdfReader

reader = PdfReader(sys.argv[1], strict=True)
pages = []
for page in reader.pages:
    box = page.mediabox
    pages.append(
        {
            "width": float(box.width),
            "height": float(box.height),
            "text": page.extract_text(),
        }
    )
info = reader.metadata or {}
print(
    json.dumps(
        {
            "pages": pages,
            "title": info.get("/Title"),
            "producer": info.get("/Producer"),
        }
    )
)
