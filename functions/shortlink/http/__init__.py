"""What every handler shares about HTTP: reading proxy events, answering errors (problem+json
or an HTML page), page texts in two languages, metric lines and QR images. No pydantic here."""
