"""The short-link domain core: plain Python shared by every function, in rooms by concern.

links/  the Link model, its rules, create, patch, follow, list, and its store
stats/  visit statistics from the links stream, and their store
http/   proxy-event parsing, problem+json and HTML answers, page texts, metrics lines, QR images
api/    the Powertools resolver, pydantic schemas and idempotency (only room importing them)

`dynamodb` is the one module that talks to DynamoDB; `clock` is the time every handler reads.
"""
