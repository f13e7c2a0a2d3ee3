"""The Sipalto API: the HTTP client and the pacer that keeps it under the server's rate limit."""
